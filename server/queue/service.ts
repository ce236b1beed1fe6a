import { randomBytes } from 'node:crypto';
import { isStaff, type AuthUser } from '../shared/auth-user';
import type { Db } from '../db/knex';
import type { QueueLine, QueueStatus } from '../contracts';
import type { Clock } from '../shared/clock';
import { AppError, ConflictError, NotFoundError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { configView, rulesOf, WaitingRoomConfigs, type WaitingRoomConfig } from './config-store';
import { estimateRate, RateSamples } from './rate';
import type { QueueConfigBody } from '../contracts/queue';
import type { DoneReason, LineTotals, Place, QueueStore, TickResult } from './store';

/** A hold was asked for without an admission while the event's waiting room is on. */
export class NotAdmittedError extends AppError {
  constructor(eventId: number) {
    super(403, 'NOT_ADMITTED', 'This sale runs through a waiting room: join the queue and shop once admitted (or your shopping window ended)', {
      eventId,
      queue: `/api/events/${eventId}/queue`,
    });
  }
}

/** What a tick tells the socket layer and the metrics. */
export interface LineTick {
  eventId: number;
  result: TickResult;
  line: QueueLine;
}

export interface WaitingRoomDeps {
  db: Db;
  clock: Clock;
  store: QueueStore;
  /** Draws for the lobby, in [0, 1). Injectable so a test can seed it; cryptographic by default (a place must not be guessable). */
  random?: () => number;
  logger?: Logger;
}

const cryptoRandom = (): number => randomBytes(6).readUIntBE(0, 6) / 2 ** 48;

/**
 * The waiting room (issue 12): per-event configuration, the buyer's place, admission, and the gate that hold
 * commands pass. The line itself lives in the QueueStore; every node ticks every event whose room is on, and the
 * store's atomic tick decides admissions, so N nodes admit no more than one would.
 */
export class WaitingRoomService {
  readonly configs: WaitingRoomConfigs;
  private readonly random: () => number;
  /** Per event: the last admission-log entry this node has passed to its sockets. */
  private readonly lastSeq = new Map<number, number>();
  private readonly rates = new Map<number, RateSamples>();
  private readonly listeners: ((tick: LineTick) => void)[] = [];
  private ticker?: NodeJS.Timeout;
  private ticking?: Promise<void>;

  constructor(private readonly deps: WaitingRoomDeps) {
    this.configs = new WaitingRoomConfigs(deps.db);
    this.random = deps.random ?? cryptoRandom;
  }

  /** Sets an event's waiting room (admin). Switching it off forgets the line. */
  async configure(eventId: number, body: QueueConfigBody): Promise<WaitingRoomConfig> {
    const event = await this.deps.db('events').where({ id: eventId }).first('id');
    if (!event) throw new NotFoundError('Event', 'EVENT_NOT_FOUND');
    const config = await this.configs.put(eventId, body, this.deps.clock.now());
    if (!config.enabled) {
      await this.deps.store.clear(eventId);
      this.lastSeq.delete(eventId);
      this.rates.delete(eventId);
    }
    return config;
  }

  /** The configuration and the line now (admin and box office). */
  async adminView(eventId: number): Promise<ReturnType<typeof configView> & { line: (LineTotals & { ratePerMinute: number }) | null }> {
    const config = await this.configs.get(eventId);
    if (!config) throw new NotFoundError('Waiting room', 'QUEUE_NOT_CONFIGURED');
    // A tick is the store's way to read the totals; it also does what a tick is due to do anyway. Quietly: an
    // organiser's dashboard polling must not add position messages (the admission log waits for the next tick).
    const line = config.enabled ? await this.tick(eventId, { quiet: true }) : undefined;
    return { ...configView(config), line: line ? { ...totalsOnly(line.result), ratePerMinute: line.line.ratePerMinute } : null };
  }

  /** Takes a place in line for the account, or returns the one it has (idempotent: a reconnect keeps its place). */
  async join(user: AuthUser, eventId: number): Promise<QueueStatus> {
    const config = await this.openConfig(eventId);
    if (!config) return offStatus(eventId);
    const now = this.deps.clock.now();
    if (now < config.opensAt) throw new ConflictError('QUEUE_NOT_OPEN', 'The waiting room is not open yet', { opensAt: new Date(config.opensAt).toISOString() });
    const place = await this.deps.store.join(eventId, user.id, now, rulesOf(config), this.random());
    return this.view(config, place);
  }

  /** The account's place (REST polling, and a lobby client after the draw); signed out, `none` if there is a room. */
  async status(user: AuthUser | undefined, eventId: number): Promise<QueueStatus> {
    const config = await this.openConfig(eventId);
    if (!config) return offStatus(eventId);
    // Account 0 never exists: a signed-out caller reads the line's totals and no place.
    return this.view(config, await this.deps.store.status(eventId, user?.id ?? 0, this.deps.clock.now(), rulesOf(config)));
  }

  /** Leaves the line; an admitted buyer hands its slot to the next in line at once. */
  async leave(user: AuthUser, eventId: number): Promise<QueueStatus> {
    await this.finished(eventId, user.id, 'left');
    return this.status(user, eventId);
  }

  /** The buyer is done (booked, or left): its slot passes on now rather than at the end of its window. */
  async finished(eventId: number, userId: number, reason: DoneReason): Promise<void> {
    const config = await this.configs.get(eventId);
    if (!config?.enabled) return;
    if (await this.deps.store.leave(eventId, userId, reason)) {
      void this.tick(eventId).catch((err) => this.deps.logger?.warn({ err, eventId }, 'waiting room: admitting the next buyer failed; the ticker will'));
    }
  }

  /**
   * The gate in front of every new hold: passes staff, events without a waiting room, and admitted buyers whose
   * window is still open; anyone else gets NOT_ADMITTED.
   */
  async assertMayHold(actor: AuthUser, eventId: number): Promise<void> {
    if (isStaff(actor)) return;
    const config = await this.configs.get(eventId);
    if (!config?.enabled) return;
    if (!(await this.deps.store.isAdmitted(eventId, actor.id, this.deps.clock.now()))) throw new NotAdmittedError(eventId);
  }

  /** Observes every tick of this node (socket broadcasts, metrics). */
  onTick(listener: (tick: LineTick) => void): void {
    this.listeners.push(listener);
  }

  /** Ticks one event: draw when due, end lapsed windows, admit, and tell the listeners (unless `quiet`). */
  async tick(eventId: number, opts: { quiet?: boolean } = {}): Promise<LineTick | undefined> {
    const config = await this.configs.get(eventId);
    if (!config?.enabled) return undefined;
    const now = this.deps.clock.now();
    const seen = this.lastSeq.get(eventId);
    const since = opts.quiet || seen === undefined ? -1 : seen;
    const result = await this.deps.store.tick(eventId, now, rulesOf(config), since);
    if (opts.quiet) return { eventId, result, line: this.lineOf(eventId, config, result, now) };
    // First tick here (since -1): the log holds this call's admissions only; earlier ones were announced by the
    // nodes that made them or are told by join/status. Ticks of one event may overlap on a node (the ticker, a
    // booking's hand-over); their answers arrive in call order, so filtering by the last seen announces each once.
    const current = this.lastSeq.get(eventId);
    if (current !== undefined) result.log = result.log.filter((a) => a.seq > current);
    const last = Math.max(current ?? -1, since < 0 ? result.admitted : since, ...result.log.map((a) => a.seq));
    this.lastSeq.set(eventId, last);
    const tick: LineTick = { eventId, result, line: this.lineOf(eventId, config, result, now) };
    for (const listener of this.listeners) listener(tick);
    return tick;
  }

  private lineOf(eventId: number, config: WaitingRoomConfig, result: TickResult, now: number): QueueLine {
    let samples = this.rates.get(eventId);
    if (!samples) this.rates.set(eventId, (samples = new RateSamples()));
    samples.add(now, result.admitted);
    return { head: result.head, waiting: result.waiting, lobby: result.lobby, drawn: result.drawn, ratePerMinute: estimateRate(samples, config) };
  }

  /** Ticks every event whose waiting room is open (one pass at a time per node). */
  tickAll(): Promise<void> {
    this.ticking ??= (async () => {
      try {
        const now = this.deps.clock.now();
        for (const config of await this.configs.enabledEvents()) {
          if (now < config.opensAt) continue;
          await this.tick(config.eventId).catch((err) => this.deps.logger?.warn({ err, eventId: config.eventId }, 'waiting room tick failed'));
        }
      } finally {
        this.ticking = undefined;
      }
    })();
    return this.ticking;
  }

  startTicker(ms: number): void {
    this.ticker ??= setInterval(() => void this.tickAll().catch((err) => this.deps.logger?.warn({ err }, 'waiting room ticker failed')), ms);
    this.ticker.unref();
  }

  async stop(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    await this.ticking;
  }

  /** The event's open room, null without one; EVENT_NOT_FOUND for an unknown or draft event. Cached: see configs. */
  private async openConfig(eventId: number): Promise<WaitingRoomConfig | null> {
    const config = await this.configs.get(eventId);
    const status = config ? config.eventStatus : ((await this.deps.db('events').where({ id: eventId }).first('status')) as { status: string } | undefined)?.status;
    if (!status || status === 'draft') throw new NotFoundError('Event', 'EVENT_NOT_FOUND');
    return config?.enabled ? config : null;
  }

  private view(config: WaitingRoomConfig, place: Place & { totals: LineTotals }): QueueStatus {
    const ratePerMinute = estimateRate(this.rates.get(config.eventId), config);
    const position = place.state === 'waiting' ? Math.max(1, place.ticket - place.totals.head) : null;
    return {
      eventId: config.eventId,
      state: place.state,
      opensAt: new Date(config.opensAt).toISOString(),
      saleStartsAt: new Date(config.saleStartsAt).toISOString(),
      windowSeconds: config.windowSeconds,
      ticket: place.state === 'waiting' ? place.ticket : null,
      position,
      estimatedWaitSeconds: position === null || ratePerMinute <= 0 ? null : Math.ceil((position / ratePerMinute) * 60),
      admittedUntil: place.state === 'admitted' ? new Date(place.until).toISOString() : null,
      doneReason: place.state === 'done' ? place.reason : null,
      line: { head: place.totals.head, waiting: place.totals.waiting, lobby: place.totals.lobby, drawn: place.totals.drawn, ratePerMinute },
    };
  }
}

function totalsOnly(r: TickResult): LineTotals {
  return { head: r.head, waiting: r.waiting, lobby: r.lobby, active: r.active, admitted: r.admitted, drawn: r.drawn };
}

function offStatus(eventId: number): QueueStatus {
  return {
    eventId,
    state: 'off',
    opensAt: null,
    saleStartsAt: null,
    windowSeconds: null,
    ticket: null,
    position: null,
    estimatedWaitSeconds: null,
    admittedUntil: null,
    doneReason: null,
    line: { head: 0, waiting: 0, lobby: 0, drawn: false, ratePerMinute: 0 },
  };
}
