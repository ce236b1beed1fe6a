import { randomUUID } from 'node:crypto';
import { io as ioc, type Socket } from 'socket.io-client';
import type { Ack, BookingView, ClientToServerEvents, EventLayout, HandshakeAuth, HoldView, SeatsChanged, SeatsSnapshot, ServerToClientEvents } from '../server/contracts';
import { decodeChanges, decodeSnapshot, layoutOrder, type LayoutOrder } from '../server/realtime/compact';
import { eventNamespace } from '../server/contracts/namespace';
import { SeatMap } from '../server/realtime/seat-map';
import type { SeatInfo } from './harness';
import { retryDelayMs, retryLaterCode } from './retry';
import { Latency, now, sleep, wallNow } from './stats';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
export type Strategy = 'random' | 'hotspot' | 'best';

/**
 * The seat order of an event's layout, for the compact form (`--format compact`, the default): fetched once per
 * client thread, as a browser fetches it once and then has it cached.
 */
export async function fetchLayoutOrder(baseUrl: string, eventId: number): Promise<LayoutOrder> {
  const res = await fetch(`${baseUrl}/api/events/${eventId}/layout`);
  if (!res.ok) throw new Error(`layout of event ${eventId}: HTTP ${res.status}`);
  const layout = (await res.json()) as EventLayout;
  return layoutOrder(layout.layoutVersion, layout.seats.map((s) => s.id));
}

/**
 * Connects to an event namespace over WebSocket only, without auto-reconnect (a drop is counted, not hidden).
 * With a layout `order` the socket asks for the compact form; `firstSnapshot` and `onChanges` decode it.
 */
export function connect(baseUrl: string, eventId: number, token?: string, order?: LayoutOrder): ClientSocket {
  const auth: HandshakeAuth = order ? { format: 'compact' } : {};
  if (token) auth.token = token;
  return ioc(`${baseUrl}${eventNamespace(eventId)}`, {
    auth,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: 60_000,
  }) as ClientSocket;
}

/** Resolves with the first snapshot, either form, decoded (so decoding counts in time-to-snapshot); rejects on a connect error. */
export function firstSnapshot(socket: ClientSocket, timeoutMs = 120_000, order?: LayoutOrder): Promise<SeatsSnapshot> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no snapshot within timeout')), timeoutMs);
    socket.once('seats:snapshot', (s) => {
      clearTimeout(t);
      resolve(s);
    });
    socket.once('seats:snapshot:compact', (s) => {
      clearTimeout(t);
      if (!order) return reject(new Error('a compact snapshot without a layout'));
      try {
        resolve(decodeSnapshot(s, order));
      } catch (err) {
        reject(err as Error);
      }
    });
    socket.once('connect_error', (err) => {
      clearTimeout(t);
      reject(err);
    });
  });
}

/** Calls `fn` with every change batch, either form (compact ones decoded against `order`). */
export function onChanges(socket: ClientSocket, order: LayoutOrder | undefined, fn: (b: SeatsChanged) => void): void {
  socket.on('seats:changed', fn);
  if (order) socket.on('seats:changed:compact', (b) => fn(decodeChanges(b, order)));
}

export async function send<E extends keyof ClientToServerEvents>(
  socket: ClientSocket,
  event: E,
  payload: Parameters<ClientToServerEvents[E]>[0],
  timeoutMs = 60_000,
): Promise<Parameters<Parameters<ClientToServerEvents[E]>[1]>[0]> {
  try {
    return await (socket as any).timeout(timeoutMs).emitWithAck(event, payload);
  } catch {
    return { ok: false, error: { code: 'ACK_TIMEOUT', message: `no ack within ${timeoutMs} ms` } };
  }
}

/** Chooses seats to try from what a client currently believes is available. */
export class SeatChooser {
  private readonly ranked: SeatInfo[];
  private readonly hot: Set<number>;

  constructor(
    readonly seats: SeatInfo[],
    private readonly strategy: Strategy,
    /** Share of the seats that form the hot spot (front-centre). */
    hotShare = 0.05,
  ) {
    this.ranked = [...seats].sort((a, b) => a.row - b.row || a.offCentre - b.offCentre || a.id - b.id);
    this.hot = new Set(this.ranked.slice(0, Math.max(1, Math.ceil(seats.length * hotShare))).map((s) => s.id));
  }

  /**
   * `count` seats that `map` shows available (and not in `avoid`), or fewer if that is all there is.
   * random: uniform; hotspot: 80% of buyers aim at the front-centre block while it has seats; best: the best
   * ranked available seats, with a little jitter among the top candidates so not everybody picks the very same.
   */
  choose(map: SeatMap, count: number, avoid: Set<number>): number[] {
    const free = (id: number) => map.seats.get(id)?.status === 'available' && !avoid.has(id);
    if (this.strategy === 'best') {
      const candidates: number[] = [];
      for (const s of this.ranked) {
        if (free(s.id)) candidates.push(s.id);
        if (candidates.length >= count * 4) break;
      }
      return pickRandom(candidates, count);
    }
    let pool = this.seats.map((s) => s.id);
    if (this.strategy === 'hotspot' && Math.random() < 0.8) {
      const hot = [...this.hot].filter(free);
      if (hot.length) return pickRandom(hot, count);
    }
    pool = pool.filter(free);
    return pickRandom(pool, count);
  }
}

function pickRandom(ids: number[], count: number): number[] {
  const out: number[] = [];
  const copy = [...ids];
  while (out.length < count && copy.length) {
    const i = Math.floor(Math.random() * copy.length);
    out.push(copy[i]!);
    copy[i] = copy[copy.length - 1]!;
    copy.pop();
  }
  return out;
}

/** Commands a buyer sends; each kind's answers are counted apart. */
export type CommandKind = 'hold' | 'booking' | 'release';
export const COMMAND_KINDS: readonly CommandKind[] = ['hold', 'booking', 'release'];

/**
 * Per kind of command: everything sent, and the answers that decided nothing: `BUSY` and `RATE_LIMITED`
 * refusals (the buyer waits the server's Retry-After and tries again) and acks that never came (`ACK_TIMEOUT`).
 */
export interface CommandCounts {
  sent: number;
  busy: number;
  rateLimited: number;
  timeouts: number;
}

const noCommands = (): CommandCounts => ({ sent: 0, busy: 0, rateLimited: 0, timeouts: 0 });

/** Instants (the client thread's `now()`, ms) that the sell-out figures are measured between. */
export interface SaleMarks {
  /** The first `seat:hold` sent: the sale opens. */
  firstHoldAt?: number;
  /** The booking ack that took acknowledged booked seats to 95% of the event's seats. */
  sold95At?: number;
  /** The booking ack that took them to 100%. */
  soldOutAt?: number;
}

/** Everything the buyers measure, shared by all of them. */
export class BuyerStats {
  /** Hold commands the server decided: a hold, or a real refusal (SEAT_UNAVAILABLE, HOLD_LIMIT_REACHED, ...). Never BUSY/RATE_LIMITED. */
  holdAttempts = 0;
  holds = 0;
  conflicts = 0;
  bookings = 0;
  /** Booking commands the server decided (never BUSY/RATE_LIMITED; a retry after one is the same attempt). */
  bookingAttempts = 0;
  releases = 0;
  letExpire = 0;
  seatsHeld = 0;
  seatsBooked = 0;
  /** Seats in the event, for the sell-out marks (0: not tracked). */
  totalSeats = 0;
  marks: SaleMarks = {};
  commands: Record<CommandKind, CommandCounts> = { hold: noCommands(), booking: noCommands(), release: noCommands() };
  errors: Record<string, number> = {};
  /** emit -> ack of each hold command that was not refused with BUSY/RATE_LIMITED (ack timeouts included). */
  readonly holdAck = new Latency();
  /** The same for booking commands. */
  readonly bookAck = new Latency();
  readonly releaseAck = new Latency();
  /** emit -> ack of the BUSY/RATE_LIMITED refusals (all kinds). */
  readonly refusedAck = new Latency();
  /** A buyer's first hold command of a try -> the decided answer, Retry-After waits and resends included. */
  readonly holdDecision = new Latency();
  /** First booking command -> the decided answer, Retry-After waits and resends included. */
  readonly bookDecision = new Latency();
  /** Hold expiry (stored expiresAt) to the holder's receipt of the seat becoming available. */
  readonly expiryDelivery = new Latency();
  /** Bookings the server acknowledged, for the audit. */
  readonly acked: { bookingId: number; seatIds: number[] }[] = [];
  connectFailures = 0;

  error(code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  /** Counts seats of an acknowledged booking and marks the 95% and sold-out instants. */
  booked(seats: number, at: number): void {
    this.seatsBooked += seats;
    if (this.totalSeats <= 0) return;
    if (this.marks.sold95At === undefined && this.seatsBooked >= Math.ceil(this.totalSeats * 0.95)) this.marks.sold95At = at;
    if (this.marks.soldOutAt === undefined && this.seatsBooked >= this.totalSeats) this.marks.soldOutAt = at;
  }
}

/** How a command ended for the buyer: decided by the server, refused for now (waited, send again), or no ack. */
export type Outcome = 'decided' | 'later' | 'timeout';

/** Sleeps `ms`, waking early once `stop()` says the run is over (checked every 100 ms). */
async function sleepUnless(ms: number, stop: () => boolean): Promise<void> {
  const end = now() + ms;
  while (!stop()) {
    const left = end - now();
    if (left <= 0) return;
    await sleep(Math.min(100, left));
  }
}

export interface BuyerPlan {
  seatsPerHold: number;
  /** Probability a successful hold is booked; else released, or (expireProbability) left to lapse. */
  bookProbability: number;
  expireProbability: number;
  /** Pause between a buyer's actions. */
  thinkMs: number;
  /** Stop after one booking (flash sale) or keep cycling (soak, hot-seat). */
  oneBooking: boolean;
  /** Ignore the seat map: try any of the seats at random (contenders who all click at once). */
  blind?: boolean;
  maxAttempts: number;
}

/** One simulated buyer: a socket with its own SeatMap, choosing, holding, booking or releasing. */
export class Buyer {
  readonly map = new SeatMap();
  socket!: ClientSocket;
  private readonly avoid = new Set<number>();
  private readonly awaitingExpiry = new Map<number, { version: number; expiresAt: number }>();
  done = false;

  constructor(
    private readonly url: string,
    private readonly eventId: number,
    private readonly token: string,
    private readonly stats: BuyerStats,
    private readonly chooser: SeatChooser,
    private readonly plan: BuyerPlan,
    private readonly onBatch?: (batch: SeatsChanged, receivedAt: number) => void,
    /** The layout's seat order: the buyer then takes the compact form. */
    private readonly order?: LayoutOrder,
  ) {}

  async connect(): Promise<void> {
    this.socket = connect(this.url, this.eventId, this.token, this.order);
    onChanges(this.socket, this.order, (b) => {
      const at = wallNow();
      this.map.applyChanges(b);
      if (this.awaitingExpiry.size) {
        for (const s of b.seats) {
          const w = this.awaitingExpiry.get(s.id);
          if (w && s.status === 'available' && s.version > w.version) {
            this.stats.expiryDelivery.recordMs(Math.max(0, Date.now() - w.expiresAt));
            this.awaitingExpiry.delete(s.id);
          }
        }
      }
      this.onBatch?.(b, at);
    });
    try {
      this.map.applySnapshot(await firstSnapshot(this.socket, undefined, this.order));
    } catch (err) {
      this.stats.connectFailures++;
      this.done = true;
      throw err;
    }
  }

  /**
   * Sends one command and counts its answer under `kind`. A `BUSY`/`RATE_LIMITED` refusal is not a decision:
   * the buyer waits the server's Retry-After with jitter (load/retry.ts; cut short when the run stops) and the
   * caller sends again. Decided answers (and ack timeouts) go into `hist`; refusals into `refusedAck`.
   */
  private async command<E extends 'seat:hold' | 'booking:confirm' | 'seat:release'>(
    kind: CommandKind,
    event: E,
    payload: Parameters<ClientToServerEvents[E]>[0],
    hist: Latency,
    stop: () => boolean,
  ): Promise<{ outcome: Outcome; ack: Ack<unknown> }> {
    const c = this.stats.commands[kind];
    c.sent++;
    const t0 = now();
    if (kind === 'hold') this.stats.marks.firstHoldAt ??= t0;
    const ack = (await send(this.socket, event, payload)) as Ack<unknown>;
    const ms = now() - t0;
    const later = ack.ok ? undefined : retryLaterCode(ack.error);
    if (!ack.ok && later) {
      if (later === 'BUSY') c.busy++;
      else c.rateLimited++;
      this.stats.refusedAck.recordMs(ms);
      await sleepUnless(retryDelayMs(ack.error), stop);
      return { outcome: 'later', ack };
    }
    hist.recordMs(ms);
    if (!ack.ok && ack.error.code === 'ACK_TIMEOUT') {
      c.timeouts++;
      return { outcome: 'timeout', ack };
    }
    return { outcome: 'decided', ack };
  }

  /** Buys until `stop()` says so, the buyer has booked (oneBooking), or runs out of attempts. */
  async run(stop: () => boolean): Promise<void> {
    const p = this.plan;
    // Hold commands answered with something other than BUSY/RATE_LIMITED: refusals are not attempts.
    let attempts = 0;
    // First send of the current try, for the decision latency across Retry-After waits.
    let tryStart: number | undefined;
    while (!stop() && !this.done && attempts < p.maxAttempts) {
      const seatIds = p.blind ? pickRandom(this.chooser.seats.map((s) => s.id), p.seatsPerHold) : this.chooser.choose(this.map, p.seatsPerHold, this.avoid);
      if (seatIds.length === 0) {
        // Nothing looks free right now: held seats may come back (released or lapsed). Wait for changes.
        await sleep(100);
        continue;
      }
      tryStart ??= now();
      // After a refusal the buyer chooses again: the seat map may have changed while it waited.
      const { outcome, ack: raw } = await this.command('hold', 'seat:hold', { seatIds }, this.stats.holdAck, stop);
      if (outcome === 'later') continue;
      attempts++;
      this.stats.holdDecision.recordMs(now() - tryStart);
      tryStart = undefined;
      const ack = raw as Ack<HoldView>;
      if (!ack.ok) {
        if (outcome === 'decided') this.stats.holdAttempts++;
        if (ack.error.code === 'SEAT_UNAVAILABLE') {
          this.stats.conflicts++;
          // Until the broadcast arrives, do not pick the seats the server just said are taken.
          const taken = ((ack.error.details as { seatIds?: number[] } | undefined)?.seatIds ?? seatIds) as number[];
          for (const id of taken) this.avoid.add(id);
          setTimeout(() => taken.forEach((id) => this.avoid.delete(id)), 1000).unref();
        } else {
          this.stats.error(ack.error.code);
          if (ack.error.code === 'ACK_TIMEOUT' || ack.error.code === 'HOLD_LIMIT_REACHED') await sleep(200);
        }
        if (p.thinkMs) await sleep(p.thinkMs);
        continue;
      }
      this.stats.holdAttempts++;
      this.stats.holds++;
      this.stats.seatsHeld += ack.data.seats.length;
      if (p.thinkMs) await sleep(p.thinkMs);
      const r = Math.random();
      if (r < p.bookProbability) {
        await this.book(ack.data.holdToken, stop);
      } else if (r < p.bookProbability + p.expireProbability) {
        this.stats.letExpire++;
        const expiresAt = Date.parse(ack.data.expiresAt);
        for (const s of ack.data.seats) this.awaitingExpiry.set(s.id, { version: s.version, expiresAt });
      } else {
        await this.release(ack.data.holdToken, stop);
      }
      if (p.thinkMs) await sleep(p.thinkMs);
    }
  }

  /** Books a hold, resending (same idempotency key) after BUSY/RATE_LIMITED until decided or the run stops. */
  private async book(holdToken: string, stop: () => boolean): Promise<void> {
    const idempotencyKey = randomUUID();
    const t0 = now();
    for (;;) {
      const { outcome, ack } = await this.command('booking', 'booking:confirm', { holdToken, idempotencyKey }, this.stats.bookAck, stop);
      if (outcome === 'later') {
        // Run over while refused: the hold is left to lapse, as a client that gave up would.
        if (stop()) return;
        continue;
      }
      this.stats.bookDecision.recordMs(now() - t0);
      if (outcome === 'decided') this.stats.bookingAttempts++;
      const booked = ack as Ack<BookingView>;
      if (booked.ok) {
        this.stats.bookings++;
        this.stats.booked(booked.data.seats.length, now());
        this.stats.acked.push({ bookingId: booked.data.id, seatIds: booked.data.seats.map((s) => s.seatId) });
        if (this.plan.oneBooking) this.done = true;
      } else this.stats.error(`book:${booked.error.code}`);
      return;
    }
  }

  /** Releases a hold, resending after BUSY/RATE_LIMITED until decided or the run stops. */
  private async release(holdToken: string, stop: () => boolean): Promise<void> {
    for (;;) {
      const { outcome, ack } = await this.command('release', 'seat:release', { holdToken }, this.stats.releaseAck, stop);
      if (outcome === 'later') {
        if (stop()) return;
        continue;
      }
      if (ack.ok) this.stats.releases++;
      else this.stats.error(`release:${ack.error.code}`);
      return;
    }
  }

  pendingExpiries(): number {
    return this.awaitingExpiry.size;
  }

  close(): void {
    this.socket?.close();
  }
}

/**
 * A watcher (box-office terminal): listens only. Records, for each seat state, the delay from the commit the
 * cluster observed (`commitTimes`) to this receipt.
 */
export function watcher(
  url: string,
  eventId: number,
  token: string | undefined,
  onBatch: (b: SeatsChanged, receivedAt: number) => void,
  order?: LayoutOrder,
): { socket: ClientSocket; map: SeatMap; ready: Promise<void> } {
  const socket = connect(url, eventId, token, order);
  const map = new SeatMap();
  onChanges(socket, order, (b) => {
    const at = wallNow();
    map.applyChanges(b);
    onBatch(b, at);
  });
  const ready = firstSnapshot(socket, undefined, order).then((s) => {
    map.applySnapshot(s);
  });
  return { socket, map, ready };
}
