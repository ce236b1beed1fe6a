import type { AuthUser } from '../shared/auth-user';
import { BusyError } from '../db/backpressure';
import type { Db } from '../db/knex';
import { withTransaction, type RetryOptions } from '../db/transaction';
import { HOLD_QUEUE_DEFAULTS, SEAT_BATCH_DEFAULTS } from '../config';
import type { HoldExtras } from './hold-extras';
import type { Notifier } from '../realtime/notifier';
import type { Clock } from '../shared/clock';
import { NotFoundError } from '../shared/errors';
import { loadBatchState, type FreedSeatsWanted } from './batch-read';
import { writePlan } from './batch-write';
import type { BookedNow, BookingRow, CommandOutcome, HoldOutcome, SeatCommand, WalkInCustomer } from './commands';
import type { BatchPlan } from './batch-plan';
import { decideBatch } from './decide';
import { GroupCommit, type GroupCommitOptions, type Pending } from './group-commit';
import { toSeatState } from './seat-store';

export interface InventoryDeps {
  db: Db;
  clock: Clock;
  notifier: Notifier;
  retry?: RetryOptions;
  /** What holds carry besides seats (general-admission tickets), released, expired and booked with them. */
  holdExtras?: HoldExtras;
  /** Called after seats became available (release, expiry), so the waitlist can offer them. */
  onSeatsFreed?: (eventId: number, seatIds: number[]) => void;
  /**
   * Whether anyone wants freed seats (the waitlist's SQL), read in the batch: `onSeatsFreed` is called only when it
   * says so (batch-read.ts, FreedSeatsWanted). Without it, every batch that frees seats calls it.
   */
  freedSeatsWanted?: FreedSeatsWanted;
  /** Observes each committed batch (metrics): how many commands it decided and how long its transaction took (ms). */
  onBatch?: (eventId: number, commands: number, ms: number) => void;
  groupCommit?: Partial<GroupCommitOptions>;
  /** Most seats one client address may hold live per event across all its accounts (0: no cap). */
  ipHoldCap?: number;
  /** Called when the per-IP cap refuses a hold (metrics, a log line). */
  onIpCap?: (eventId: number, clientIp: string) => void;
}

/**
 * 100 commands and 1,000 seats (SEAT_BATCH_DEFAULTS, config.ts, also the defaults of SEAT_BATCH_MAX_COMMANDS and
 * SEAT_BATCH_MAX_SEATS, which a node passes in). A booking waits for the batch in flight when it arrives, and a
 * batch's time grows with its commands: in the flash sale, batches of at most 100 (against 200) made booking ack p99
 * about half as long with hold ack p99 unchanged; 50 made holds wait longer; bigger batches (500 and 2,000)
 * decided 20-25% more holds but made bookings wait longer still. The price: at 256 contenders on one event a node
 * decides fewer holds a second (about 15% on MariaDB). load/README.md, issue 17, batch size. 1,000 seats keep
 * every statement of a full batch within SQLite's limits (32,766 bindings; the seat compare-and-set binds 13 values
 * per seat there; tests/integration/group-commit.test.ts runs a full batch).
 */
const DEFAULTS: GroupCommitOptions = { ...SEAT_BATCH_DEFAULTS, ...HOLD_QUEUE_DEFAULTS };
/** Hold tokens whose event this node knows (a token's event never changes), so routing a command costs no read. */
const TOKEN_CACHE = 50_000;

/**
 * The inventory core's command side: hold, release, extend, book and expire, for one event at a time,
 * group-committed (see GroupCommit and decideBatch). Each call resolves with its own outcome or rejects with
 * its own error, exactly as if it had run alone; the notifier hears of a batch once, after its COMMIT.
 */
export class InventoryService {
  private readonly batches: GroupCommit<CommandOutcome>;
  private readonly tokenEvents = new Map<string, number>();

  constructor(private readonly deps: InventoryDeps) {
    this.batches = new GroupCommit<CommandOutcome>({ ...DEFAULTS, ...deps.groupCommit }, (eventId, batch) => this.runBatch(eventId, batch));
  }

  async hold(actor: AuthUser, eventId: number, input: { seatIds: number[]; holdToken?: string; customer?: WalkInCustomer; clientIp?: string }): Promise<HoldOutcome> {
    const out = await this.submit(eventId, { kind: 'hold', actor, seatIds: [...new Set(input.seatIds)], holdToken: input.holdToken, customer: input.customer, clientIp: input.clientIp });
    return (out as Extract<CommandOutcome, { kind: 'hold' }>).hold;
  }

  async release(actor: AuthUser, holdToken: string, seatIds?: number[]): Promise<{ released: number[]; hold: HoldOutcome | null }> {
    const out = (await this.route(holdToken, { kind: 'release', actor, holdToken, seatIds })) as Extract<CommandOutcome, { kind: 'release' }>;
    return { released: out.released, hold: out.hold };
  }

  async extend(actor: AuthUser, holdToken: string): Promise<HoldOutcome> {
    const out = await this.route(holdToken, { kind: 'extend', actor, holdToken });
    return (out as Extract<CommandOutcome, { kind: 'extend' }>).hold;
  }

  async book(actor: AuthUser, holdToken: string, idempotencyKey: string): Promise<{ booking: BookingRow; replayed: boolean; booked?: BookedNow }> {
    const out = (await this.route(holdToken, { kind: 'book', actor, holdToken, idempotencyKey })) as Extract<CommandOutcome, { kind: 'book' }>;
    return { booking: out.booking, replayed: out.replayed, booked: out.booked };
  }

  /**
   * Releases lapsed holds, up to `limit`, through the same batches as everything else (one expire command per
   * event). Every node runs it; a hold two nodes try to expire at once is expired by exactly one (the other's
   * batch reads it SKIP LOCKED, or finds it no longer active). Returns the number of holds this node expired.
   */
  async sweep(limit = 100): Promise<number> {
    const due = (await this.deps.db('holds')
      .where('status', 'active')
      .andWhere('expires_at', '<=', this.deps.clock.now())
      .orderBy('expires_at')
      .limit(limit)
      .select('id', 'event_id')) as { id: number; event_id: number }[];
    const byEvent = new Map<number, number[]>();
    for (const h of due) byEvent.set(h.event_id, [...(byEvent.get(h.event_id) ?? []), h.id]);
    const outs = await Promise.all([...byEvent].map(([eventId, holdIds]) => this.submit(eventId, { kind: 'expire', holdIds })));
    return outs.reduce((n, o) => n + (o as Extract<CommandOutcome, { kind: 'expire' }>).expired.length, 0);
  }

  /** Commands queued for an event's next batch (metrics, tests). */
  queued(eventId: number): number {
    return this.batches.queued(eventId);
  }

  private submit(eventId: number, cmd: SeatCommand): Promise<CommandOutcome> {
    return this.batches.submit(eventId, cmd) ?? Promise.reject(new BusyError());
  }

  /**
   * Queues a command about a hold with the hold's event: synchronously when this node knows the token (so
   * commands keep the order they were sent in), else after one indexed read.
   */
  private route(holdToken: string, cmd: SeatCommand): Promise<CommandOutcome> {
    const cached = this.tokenEvents.get(holdToken);
    if (cached !== undefined) return this.submit(cached, cmd);
    return (async () => {
      const row = (await this.deps.db('holds').where({ token: holdToken }).first('event_id')) as { event_id: number } | undefined;
      if (!row) throw new NotFoundError('Hold', 'HOLD_NOT_FOUND');
      this.remember(holdToken, row.event_id);
      return this.submit(row.event_id, cmd);
    })();
  }

  private remember(token: string, eventId: number): void {
    if (this.tokenEvents.size >= TOKEN_CACHE) this.tokenEvents.delete(this.tokenEvents.keys().next().value!);
    this.tokenEvents.set(token, eventId);
  }

  /** One batch = one transaction (retried whole on a lost race or deadlock); then replies and broadcasts. */
  private async runBatch(eventId: number, batch: Pending<CommandOutcome>[]): Promise<void> {
    const commands = batch.map((p) => p.cmd);
    const started = performance.now();
    let plan: BatchPlan;
    let cursor: number;
    let freedWanted: boolean;
    try {
      ({ plan, cursor, freedWanted } = await withTransaction(
        this.deps.db,
        async (trx) => {
          const now = this.deps.clock.now();
          const state = await loadBatchState(trx, eventId, commands, now, this.deps.holdExtras, this.deps.ipHoldCap ?? 0, this.deps.freedSeatsWanted);
          const decided = decideBatch(state, commands);
          // Nothing follows the plan's writes, so its last round may carry the COMMIT.
          return { plan: decided, cursor: await writePlan(trx, eventId, decided, now, this.deps.holdExtras, { commit: true }), freedWanted: state.freedWanted };
        },
        this.deps.retry,
      ));
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    this.announce(eventId, plan, cursor, freedWanted);
    this.deps.onBatch?.(eventId, batch.length, performance.now() - started);
    plan.results.forEach((r, i) => {
      const cmd = batch[i]!.cmd;
      if (!r.ok && r.error.code === 'IP_HOLD_LIMIT_REACHED' && cmd.kind === 'hold' && cmd.clientIp) this.deps.onIpCap?.(eventId, cmd.clientIp);
      if (r.ok) {
        if (r.value.kind === 'hold') this.remember(r.value.hold.hold.token, eventId);
        batch[i]!.resolve(r.value);
      } else batch[i]!.reject(r.error);
    });
  }

  /** After COMMIT: one broadcast for the batch, the freed seats to the waitlist (if anyone wants them), holders told of expiry and of a staff release. */
  private announce(eventId: number, plan: BatchPlan, cursor: number, freedWanted: boolean): void {
    const { notifier, holdExtras, onSeatsFreed } = this.deps;
    if (plan.touched.size) notifier.seatsChanged(eventId, [...plan.touched.values()].map(toSeatState), cursor);
    if (plan.freed.length && freedWanted) onSeatsFreed?.(eventId, plan.freed);
    if (plan.extrasClosed.length || plan.extrasBooked.length) holdExtras?.changed(eventId);
    for (const r of plan.results) {
      if (!r.ok) continue;
      if (r.value.kind === 'release' && r.value.forcedFrom) {
        const { userId, holdToken } = r.value.forcedFrom;
        notifier.holdExpired(userId, { eventId, holdToken, seatIds: r.value.released, reason: 'force_release' });
      }
      if (r.value.kind !== 'expire') continue;
      for (const e of r.value.expired) notifier.holdExpired(e.userId, { eventId, holdToken: e.token, seatIds: e.seatIds });
    }
  }
}
