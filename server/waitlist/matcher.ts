import type { Db } from '../db/knex';
import { RetryableConflict, withTransaction, type RetryOptions, type Trx } from '../db/transaction';
import type { WaitlistOffer } from '../contracts';
import { newHoldRow } from '../inventory/hold-rules';
import { holdSeats, openHold } from '../inventory/operations';
import { readLaidOutSeats, type TransitionResult } from '../inventory/seat-store';
import type { Notifier } from '../realtime/notifier';
import { candidateOf, pickBest } from '../seats/best-available';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import { appendOutbox } from '../shared/outbox';
import { ACTIVE, offerEvent, settledStatus, type EntryRow } from './entries';

export interface MatcherDeps {
  db: Db;
  clock: Clock;
  notifier: Notifier;
  retry?: RetryOptions;
  /** Matching runs in the background (after a seat is freed, and on a ticker): its failures are logged here. */
  logger: Logger;
  /** How long an offer is held for; default the event's hold time. */
  offerTtlSeconds?: number;
}

/** Entries looked at per matching pass (the oldest first). */
const ENTRY_WINDOW = 200;
/** Offers made per run before yielding (a run continues on the next trigger or tick). */
const MAX_OFFERS_PER_RUN = 100;

/**
 * Matching: offers freed seats to the oldest waiting entry they fit, in the background. Runs are chained per
 * event on this node (a node does not race itself); across nodes, each offer is one transaction guarded by
 * compare-and-sets on the entry and the seats, so exactly one node's offer of the same seats commits.
 */
export class WaitlistMatcher {
  /** Per-event chain of matching runs on this node, so one node does not race itself. */
  private readonly runs = new Map<number, Promise<void>>();
  private readonly queued = new Set<number>();
  private ticker: NodeJS.Timeout | undefined;

  constructor(private readonly deps: MatcherDeps) {}

  private tx<T>(body: (trx: Trx) => Promise<T>): Promise<T> {
    return withTransaction(this.deps.db, body, this.deps.retry);
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
        this.deps.logger.warn({ err, eventId }, 'waitlist matching failed; will retry');
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
    this.ticker ??= setInterval(() => void this.tick().catch((err) => this.deps.logger.warn({ err }, 'waitlist tick failed (finding events with waiting entries); will retry')), ms);
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
      // Every seat in scope was read as available.
      const candidates = scope.map((s) => candidateOf(s, true));
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
      const offered = { entryId: entry.id, eventId, userId: entry.user_id, holdId: opened.id, partySize: entry.party_size, seatIds: pick.seatIds, expiresAt: new Date(expiresAt).toISOString() };
      await appendOutbox(trx, [{ type: 'waitlist.offer_made', data: offered }], now);
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
      .select('w.id', 'w.version', 'w.event_id', 'w.user_id', 'w.offer_hold_id', 'h.status as hold_status')) as (Pick<EntryRow, 'id' | 'version' | 'event_id' | 'user_id' | 'offer_hold_id'> & { hold_status: string })[];
    for (const d of done) {
      const status = settledStatus(d.hold_status);
      const moved = await trx('waitlist_entries').where({ id: d.id, status: 'offered', version: d.version }).update({ status, version: d.version + 1 });
      if (moved !== 1) throw new RetryableConflict('waitlist entry changed');
      await appendOutbox(trx, [offerEvent(`waitlist.offer_${status as 'accepted' | 'declined' | 'lapsed'}`, d)], this.deps.clock.now());
    }
  }
}
