import { assertKnownScope } from '../seats/scope';
import type { Knex } from 'knex';
import type { AuthUser } from '../shared/auth-user';
import { isStaff } from '../shared/auth-user';
import type { BookingsService } from '../bookings/service';
import { isMysql, type Db } from '../db/knex';
import { RetryableConflict, withTransaction, type RetryOptions, type Trx } from '../db/transaction';
import type { Notifier } from '../realtime/notifier';
import type { BookingView, SeatState, WaitlistEntryView, WaitlistOffer, WaitlistStatus } from '../contracts';
import { pickBest, type Candidate } from '../seats/best-available';
import { assertOnSale, loadEventRules, newHoldRow } from '../inventory/hold-rules';
import { holdSeats, openHold, releaseHold } from '../inventory/operations';
import { readLaidOutSeats, toSeatState, type SeatRow, type TransitionResult } from '../inventory/seat-store';
import type { Clock } from '../shared/clock';
import { ConflictError, NotFoundError, UnprocessableError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { Page } from '../shared/validation';
import type { JoinInput, ListWaitlistQuery } from '../contracts/waitlist';

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

interface EntryRow {
  id: number;
  event_id: number;
  user_id: number;
  party_size: number;
  section: string | null;
  category: string | null;
  together: boolean | number;
  status: WaitlistStatus;
  offer_hold_id: number | null;
  offer_expires_at: number | null;
  version: number;
  created_at: number;
}

/** A seat of the event as the matcher reads it. */

/** Entries looked at per matching pass (the oldest first). */
const ENTRY_WINDOW = 200;
/** Offers made per run before yielding (a run continues on the next trigger or tick). */
const MAX_OFFERS_PER_RUN = 100;
const ACTIVE: WaitlistStatus[] = ['waiting', 'offered'];

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
  /** Per-event chain of matching runs on this node, so one node does not race itself. */
  private readonly runs = new Map<number, Promise<void>>();
  private readonly queued = new Set<number>();
  private ticker: NodeJS.Timeout | undefined;
  private readonly logger: Logger;

  constructor(private readonly deps: WaitlistDeps) {
    this.logger = deps.logger;
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
      if (isMysql(this.deps.db)) await trx('users').where({ id: actor.id }).forUpdate().first('id');
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
    await this.deps.db('waitlist_entries')
      .where({ id: entry.id, status: 'offered' })
      .update({ status: 'accepted', version: this.deps.db.raw('version + 1') });
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

  /**
   * Queues a matching run for the event on this node. Triggers that arrive while a run is queued share it;
   * one that arrives while a run is going queues exactly one more (which sees everything freed meanwhile).
   */
  schedule(eventId: number): void {
    if (this.queued.has(eventId)) return;
    this.queued.add(eventId);
    const previous = this.runs.get(eventId) ?? Promise.resolve();
    const run = previous.then(async () => {
      this.queued.delete(eventId);
      try {
        await this.process(eventId);
      } catch (err) {
        // The periodic tick (or the next freed seat) tries again; nothing was half-done: offers are transactions.
        this.logger.warn({ err, eventId }, 'waitlist matching failed; will retry');
      }
    });
    this.runs.set(eventId, run);
    void run.then(() => {
      if (this.runs.get(eventId) === run) this.runs.delete(eventId);
    });
  }

  /** Resolves when every queued matching run on this node has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.runs.size) await Promise.all([...this.runs.values()]);
  }

  /** Safety net for seats freed by paths that do not call `seatsFreed`: every `ms`, rematch events with waiting entries. */
  startTicker(ms: number): void {
    this.ticker ??= setInterval(() => void this.tick().catch((err) => this.logger.warn({ err }, 'waitlist tick failed (finding events with waiting entries); will retry')), ms);
    this.ticker.unref();
  }

  async stop(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    await this.idle();
  }

  async tick(): Promise<void> {
    const events = await this.deps.db('waitlist_entries as w')
      .join('events as e', 'e.id', 'w.event_id')
      .where('e.status', 'on_sale')
      .whereIn('w.status', ACTIVE)
      .distinct('w.event_id')
      .limit(100);
    for (const e of events as { event_id: number }[]) this.schedule(e.event_id);
  }

  /** Settles finished offers, then makes offers until no waiting entry fits the free seats. Returns offers made. */
  async process(eventId: number): Promise<number> {
    // Most events have nobody waiting: one plain read instead of a transaction per freed seat (every release and
    // expiry in a flash sale triggers a pass). An entry that joins after this read triggers its own pass.
    const active = await this.deps.db('waitlist_entries').where({ event_id: eventId }).whereIn('status', ACTIVE).first('id');
    if (!active) return 0;
    let made = 0;
    while (made < MAX_OFFERS_PER_RUN) {
      const offer = await this.tx((trx) => this.offerOnce(trx, eventId));
      if (!offer) break;
      made++;
      this.deps.notifier.seatsChanged(eventId, offer.result.seats, offer.result.cursor);
      this.deps.notifier.waitlistOffer?.(offer.userId, offer.notice);
    }
    return made;
  }

  /** One offer in one transaction, or null when nothing fits. */
  private async offerOnce(trx: Trx, eventId: number): Promise<{ userId: number; notice: WaitlistOffer; result: TransitionResult } | null> {
    const now = this.deps.clock.now();
    const event = await trx('events').where({ id: eventId }).first('status', 'hold_ttl_seconds');
    if (!event || event.status !== 'on_sale') return null;
    await this.settleOffers(trx, eventId);
    const entries = (await trx('waitlist_entries').where({ event_id: eventId, status: 'waiting' }).orderBy('id').limit(ENTRY_WINDOW)) as EntryRow[];
    if (entries.length === 0) return null;
    const seats = await readLaidOutSeats(trx, eventId, { status: 'available' });
    if (seats.length === 0) return null;
    for (const entry of entries) {
      const scope = seats.filter((s) => (!entry.section || s.section_name === entry.section) && (!entry.category || s.category === entry.category));
      if (scope.length < entry.party_size) continue;
      const candidates: Candidate[] = scope.map((s) => ({
        seatId: s.seat_id,
        sectionId: s.section_id,
        sectionOrder: s.sort_order,
        row: s.row_label,
        number: s.number,
        free: true,
      }));
      const [pick] = pickBest(candidates, { quantity: entry.party_size, allowSplit: !entry.together });
      if (!pick) continue;
      const chosen = new Set(pick.seatIds);
      const rows = scope.filter((s) => chosen.has(s.seat_id));
      const ttl = this.deps.offerTtlSeconds ?? Number(event.hold_ttl_seconds);
      const expiresAt = now + ttl * 1000;
      // An offer is not extended (its maximum life is its offer time): it lapses and goes to the next in line.
      const hold = newHoldRow({ id: eventId, hold_ttl_seconds: ttl, max_hold_life_seconds: ttl }, entry.user_id, now, { source: 'waitlist' });
      const opened = await openHold(trx, hold);
      const moved = await trx('waitlist_entries')
        .where({ id: entry.id, status: 'waiting', version: entry.version })
        .update({ status: 'offered', version: entry.version + 1, offer_hold_id: opened.id, offer_expires_at: expiresAt });
      if (moved !== 1) throw new RetryableConflict('waitlist entry changed');
      const result = await holdSeats(trx, { eventId, seats: rows, hold: opened, actorId: null, reason: 'waitlist_offer', now });
      return {
        userId: entry.user_id,
        result,
        notice: { eventId, entryId: entry.id, holdToken: hold.token, expiresAt: new Date(expiresAt).toISOString(), partySize: entry.party_size, seats: result.seats },
      };
    }
    return null;
  }

  /**
   * Offers whose hold ended elsewhere (booked through POST /api/bookings, released, expired by the sweeper)
   * get their final status here, each by a compare-and-set on the entry's version.
   */
  private async settleOffers(trx: Trx, eventId: number): Promise<void> {
    const done = (await trx('waitlist_entries as w')
      .join('holds as h', 'h.id', 'w.offer_hold_id')
      .where({ 'w.event_id': eventId, 'w.status': 'offered' })
      .whereNot('h.status', 'active')
      .select('w.id', 'w.version', 'h.status as hold_status')) as { id: number; version: number; hold_status: string }[];
    for (const d of done) {
      const moved = await trx('waitlist_entries')
        .where({ id: d.id, status: 'offered', version: d.version })
        .update({ status: settledStatus(d.hold_status), version: d.version + 1 });
      if (moved !== 1) throw new RetryableConflict('waitlist entry changed');
    }
  }

  private async entry(entryId: number, db: Knex = this.deps.db): Promise<EntryRow> {
    const row = (await db('waitlist_entries').where({ id: entryId }).first()) as EntryRow | undefined;
    if (!row) throw new NotFoundError('Waitlist entry', 'WAITLIST_ENTRY_NOT_FOUND');
    return row;
  }

  /** The entry if `actor` owns it or is staff; others get the same 404 as for a missing one. */
  private async entryFor(actor: AuthUser, entryId: number, db: Knex = this.deps.db): Promise<EntryRow> {
    const row = await this.entry(entryId, db);
    if (row.user_id !== actor.id && !isStaff(actor)) throw new NotFoundError('Waitlist entry', 'WAITLIST_ENTRY_NOT_FOUND');
    return row;
  }

  private async view(row: EntryRow): Promise<WaitlistEntryView> {
    const db = this.deps.db;
    let status = row.status;
    let offer: WaitlistEntryView['offer'] = null;
    let position: number | null = null;
    if (status === 'waiting') {
      // Entries ahead of this one, plus one: 1 is next. Counting this entry itself would give 0 when a matching
      // run offered it between reading `row` and this count (a join while seats are free).
      const [{ n }] = (await db('waitlist_entries').where({ event_id: row.event_id, status: 'waiting' }).andWhere('id', '<', row.id).count({ n: '*' })) as [
        { n: number | string },
      ];
      position = Number(n) + 1;
    }
    if (status === 'offered' && row.offer_hold_id) {
      const hold = await db('holds').where({ id: row.offer_hold_id }).first('token', 'status', 'expires_at');
      const live = hold.status === 'active' && Number(hold.expires_at) > this.deps.clock.now();
      if (live) {
        const seats = (await db('event_seats').where({ hold_id: row.offer_hold_id, status: 'held' }).orderBy('seat_id')) as SeatRow[];
        offer = { holdToken: hold.token, expiresAt: new Date(Number(hold.expires_at)).toISOString(), seats: seats.map((s): SeatState => toSeatState(s)) };
      } else {
        // Settled in the database by the next matching run; report what it will be.
        status = hold.status === 'active' ? 'lapsed' : settledStatus(hold.status);
      }
    }
    return {
      id: row.id,
      eventId: row.event_id,
      partySize: row.party_size,
      section: row.section,
      category: row.category,
      together: !!row.together,
      status,
      position,
      offer,
      createdAt: new Date(Number(row.created_at)).toISOString(),
    };
  }
}

function settledStatus(holdStatus: string): WaitlistStatus {
  return holdStatus === 'booked' ? 'accepted' : holdStatus === 'released' ? 'declined' : 'lapsed';
}
