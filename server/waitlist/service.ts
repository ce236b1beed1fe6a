import type { Knex } from 'knex';
import type { BookingsService } from '../bookings/service';
import type { BookingView, WaitlistEntryView, WaitlistStatus } from '../contracts';
import type { JoinInput, ListWaitlistQuery } from '../contracts/waitlist';
import type { Db } from '../db/knex';
import { RetryableConflict, withTransaction, type RetryOptions, type Trx } from '../db/transaction';
import { assertOnSale, loadEventRules } from '../inventory/hold-rules';
import { lockHolders } from '../inventory/holder-lock';
import { releaseHold } from '../inventory/operations';
import type { TransitionResult } from '../inventory/seat-store';
import type { Notifier } from '../realtime/notifier';
import { assertKnownScope } from '../seats/scope';
import type { AuthUser } from '../shared/auth-user';
import type { Clock } from '../shared/clock';
import { ConflictError, UnprocessableError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { appendOutbox } from '../shared/outbox';
import type { Page } from '../shared/validation';
import { ACTIVE, entryView, offerEvent, readEntry, readEntryFor, type EntryRow } from './entries';
import { WaitlistMatcher } from './matcher';

export interface WaitlistDeps {
  db: Db;
  clock: Clock;
  notifier: Notifier;
  bookings: BookingsService;
  retry?: RetryOptions;
  /** Matching runs in the background (after a seat is freed, and on a ticker): its failures are logged here. */
  logger: Logger;
  /** How long an offer is held for; default the event's hold time. */
  offerTtlSeconds?: number;
}

/**
 * A waitlist that understands seats. Entries wait first come, first served; whenever seats are freed
 * (release, expiry, cancellation, unblock: `seatsFreed`), the oldest waiting entry the free seats fit is
 * offered them as a server hold in that person's name (holds.source = 'waitlist') that lapses at its own
 * time. Accepting books the hold; declining or letting it lapse frees the seats, which go to the next entry.
 *
 * One offer per freed seat, however many nodes react: an offer is one transaction that moves the entry with
 * a compare-and-set on its status and version and the seats with transitionSeats' version compare-and-set,
 * so of two nodes offering the same seats or the same entry exactly one commits; the other's transaction is
 * retried from a fresh read and finds them taken.
 */
export class WaitlistService {
  private readonly matcher: WaitlistMatcher;

  constructor(private readonly deps: WaitlistDeps) {
    this.matcher = new WaitlistMatcher(deps);
  }

  private tx<T>(body: (trx: Trx) => Promise<T>): Promise<T> {
    return withTransaction(this.deps.db, body, this.deps.retry);
  }

  /** Joins the event's waitlist (one active entry per user and event). Matching runs right after. */
  async join(actor: AuthUser, eventId: number, input: JoinInput): Promise<WaitlistEntryView> {
    const entryId = await this.tx(async (trx) => {
      const now = this.deps.clock.now();
      const event = await loadEventRules(trx, eventId);
      assertOnSale(event);
      if (input.partySize > event.max_seats_per_order) {
        throw new UnprocessableError('TOO_MANY_SEATS', `A party can be at most ${event.max_seats_per_order}`, { max: event.max_seats_per_order });
      }
      await assertKnownScope(trx, eventId, input);
      // Serialise one user's joins so two concurrent requests cannot both pass the "already joined" check.
      await lockHolders(trx, eventId, [actor.id]);
      const existing = await trx('waitlist_entries').where({ event_id: eventId, user_id: actor.id }).whereIn('status', ACTIVE).first('id');
      if (existing) throw new ConflictError('WAITLIST_ALREADY_JOINED', 'You are already on the waitlist for this event', { entryId: existing.id });
      const [id] = await trx('waitlist_entries').insert({
        event_id: eventId,
        user_id: actor.id,
        party_size: input.partySize,
        section: input.section ?? null,
        category: input.category ?? null,
        together: input.together,
        status: 'waiting',
        version: 1,
        created_at: now,
      });
      return Number(id);
    });
    this.schedule(eventId);
    return this.view(await this.entry(entryId));
  }

  /** The user's latest entry for the event (any status), with position and offer; null if never joined. */
  async mine(actor: AuthUser, eventId: number): Promise<WaitlistEntryView | null> {
    const row = (await this.deps.db('waitlist_entries').where({ event_id: eventId, user_id: actor.id }).orderBy('id', 'desc').first()) as
      | EntryRow
      | undefined;
    return row ? this.view(row) : null;
  }

  /** Staff: the event's entries in queue order, with who they are. */
  async list(eventId: number, query: ListWaitlistQuery): Promise<Page<WaitlistEntryView & { user: { id: number; name: string; email: string } }>> {
    await loadEventRules(this.deps.db, eventId);
    const base = this.deps.db('waitlist_entries as w').where('w.event_id', eventId).modify((q) => {
      if (query.status) q.where('w.status', query.status);
    });
    const [rows, [{ n }]] = await Promise.all([
      base
        .clone()
        .join('users as u', 'u.id', 'w.user_id')
        .orderBy('w.id')
        .offset((query.page - 1) * query.limit)
        .limit(query.limit)
        .select('w.*', 'u.name as user_name', 'u.email as user_email'),
      base.clone().count({ n: '*' }) as unknown as Promise<[{ n: number | string }]>,
    ]);
    const items = await Promise.all(
      (rows as (EntryRow & { user_name: string; user_email: string })[]).map(async (r) => ({
        ...(await this.view(r)),
        user: { id: r.user_id, name: r.user_name, email: r.user_email },
      })),
    );
    return { items, page: query.page, limit: query.limit, total: Number(n) };
  }

  /** Books the seats offered to the entry (through BookingsService.confirm with the offer's hold token). */
  async accept(actor: AuthUser, entryId: number, idempotencyKey: string): Promise<{ booking: BookingView; replayed: boolean }> {
    const entry = await this.entryFor(actor, entryId);
    if (!entry.offer_hold_id) throw new ConflictError('WAITLIST_NO_OFFER', 'There is no offer on this waitlist entry');
    const hold = await this.deps.db('holds').where({ id: entry.offer_hold_id }).first('token');
    // A repeat of an accepted offer with the same key answers with the same booking (confirm is idempotent).
    if (entry.status !== 'offered' && entry.status !== 'accepted') throw new ConflictError('WAITLIST_NO_OFFER', `This offer is ${entry.status}`);
    const out = await this.deps.bookings.confirm(actor, hold.token, idempotencyKey);
    // A matching pass may have settled it already (the hold is booked): then it has told the webhooks too.
    await this.tx(async (trx) => {
      const moved = await trx('waitlist_entries').where({ id: entry.id, status: 'offered' }).update({ status: 'accepted', version: trx.raw('version + 1') });
      if (moved === 1) await appendOutbox(trx, [offerEvent('waitlist.offer_accepted', entry)], this.deps.clock.now());
    });
    return out;
  }

  /** Declines an offer: the entry leaves the queue and its seats go to the next one. */
  async decline(actor: AuthUser, entryId: number): Promise<WaitlistEntryView> {
    return this.close(actor, entryId, 'declined');
  }

  /** Leaves the waitlist; an open offer is declined with it. */
  async leave(actor: AuthUser, entryId: number): Promise<WaitlistEntryView> {
    return this.close(actor, entryId, 'cancelled');
  }

  private async close(actor: AuthUser, entryId: number, to: 'declined' | 'cancelled'): Promise<WaitlistEntryView> {
    const out = await this.tx(async (trx) => {
      const now = this.deps.clock.now();
      const entry = await this.entryFor(actor, entryId, trx);
      const allowed: WaitlistStatus[] = to === 'declined' ? ['offered'] : ACTIVE;
      if (!allowed.includes(entry.status)) {
        throw new ConflictError(to === 'declined' ? 'WAITLIST_NO_OFFER' : 'WAITLIST_NOT_ACTIVE', `This waitlist entry is ${entry.status}`);
      }
      const moved = await trx('waitlist_entries')
        .where({ id: entry.id, status: entry.status, version: entry.version })
        .update({ status: to, version: entry.version + 1 });
      if (moved !== 1) throw new RetryableConflict('waitlist entry changed');
      let result: TransitionResult | null = null;
      if (entry.status === 'offered' && entry.offer_hold_id) {
        // The offer hold may already have lapsed or been released; then there is nothing left to free.
        result = await releaseHold(trx, { eventId: entry.event_id, holdId: entry.offer_hold_id, actorId: actor.id, reason: 'waitlist_decline', now });
      }
      if (entry.status === 'offered') await appendOutbox(trx, [offerEvent('waitlist.offer_declined', entry)], now);
      return { eventId: entry.event_id, result };
    });
    if (out.result?.seats.length) this.deps.notifier.seatsChanged(out.eventId, out.result.seats, out.result.cursor);
    this.schedule(out.eventId);
    return this.view(await this.entry(entryId));
  }

  /** SeatsService/BookingsService hook: seats of the event became available. */
  seatsFreed(eventId: number, seatIds: number[]): void {
    if (seatIds.length) this.schedule(eventId);
  }

  /** Queues a matching run for the event on this node (see WaitlistMatcher.schedule). */
  schedule(eventId: number): void {
    this.matcher.schedule(eventId);
  }

  /** Resolves when every queued matching run on this node has finished (tests, shutdown). */
  idle(): Promise<void> {
    return this.matcher.idle();
  }

  /** Safety net for seats freed by paths that do not call `seatsFreed`: every `ms`, rematch events with waiting entries. */
  startTicker(ms: number): void {
    this.matcher.startTicker(ms);
  }

  stop(): Promise<void> {
    return this.matcher.stop();
  }

  /** Settles finished offers, then makes offers until no waiting entry fits the free seats. Returns offers made. */
  process(eventId: number): Promise<number> {
    return this.matcher.process(eventId);
  }

  private entry(entryId: number): Promise<EntryRow> {
    return readEntry(this.deps.db, entryId);
  }

  private entryFor(actor: AuthUser, entryId: number, db: Knex = this.deps.db): Promise<EntryRow> {
    return readEntryFor(db, actor, entryId);
  }

  private view(row: EntryRow): Promise<WaitlistEntryView> {
    return entryView(this.deps.db, this.deps.clock, row);
  }
}
