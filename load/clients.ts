import { randomUUID } from 'node:crypto';
import { io as ioc, type Socket } from 'socket.io-client';
import type { Ack, BookingView, ClientToServerEvents, HoldView, SeatsChanged, SeatsSnapshot, ServerToClientEvents } from '../server/realtime/protocol';
import { eventNamespace } from '../server/realtime/protocol';
import { SeatMap } from '../server/realtime/seat-map';
import type { SeatInfo } from './harness';
import { Latency, now, sleep, wallNow } from './stats';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
export type Strategy = 'random' | 'hotspot' | 'best';

/** Connects to an event namespace over WebSocket only, without auto-reconnect (a drop is counted, not hidden). */
export function connect(baseUrl: string, eventId: number, token?: string): ClientSocket {
  return ioc(`${baseUrl}${eventNamespace(eventId)}`, {
    auth: token ? { token } : {},
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: 60_000,
  }) as ClientSocket;
}

/** Resolves with the first snapshot (and the time it arrived); rejects on a connect error. */
export function firstSnapshot(socket: ClientSocket, timeoutMs = 120_000): Promise<SeatsSnapshot> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no snapshot within timeout')), timeoutMs);
    socket.once('seats:snapshot', (s) => {
      clearTimeout(t);
      resolve(s);
    });
    socket.once('connect_error', (err) => {
      clearTimeout(t);
      reject(err);
    });
  });
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

/** Everything the buyers measure, shared by all of them. */
export class BuyerStats {
  holdAttempts = 0;
  holds = 0;
  conflicts = 0;
  bookings = 0;
  bookingAttempts = 0;
  releases = 0;
  letExpire = 0;
  seatsHeld = 0;
  seatsBooked = 0;
  errors: Record<string, number> = {};
  readonly holdAck = new Latency();
  readonly bookAck = new Latency();
  readonly releaseAck = new Latency();
  /** Hold expiry (stored expiresAt) to the holder's receipt of the seat becoming available. */
  readonly expiryDelivery = new Latency();
  /** Bookings the server acknowledged, for the audit. */
  readonly acked: { bookingId: number; seatIds: number[] }[] = [];
  /** Holds the server acknowledged and that were neither released nor booked by the buyer. */
  connectFailures = 0;

  error(code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
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
  ) {}

  async connect(): Promise<void> {
    this.socket = connect(this.url, this.eventId, this.token);
    this.socket.on('seats:changed', (b) => {
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
      this.map.applySnapshot(await firstSnapshot(this.socket));
    } catch (err) {
      this.stats.connectFailures++;
      this.done = true;
      throw err;
    }
  }

  /** Buys until `stop()` says so, the buyer has booked (oneBooking), or runs out of attempts. */
  async run(stop: () => boolean): Promise<void> {
    const p = this.plan;
    let attempts = 0;
    while (!stop() && !this.done && attempts < p.maxAttempts) {
      const seatIds = p.blind ? pickRandom(this.chooser.seats.map((s) => s.id), p.seatsPerHold) : this.chooser.choose(this.map, p.seatsPerHold, this.avoid);
      if (seatIds.length === 0) {
        // Nothing looks free right now: held seats may come back (released or lapsed). Wait for changes.
        await sleep(100);
        continue;
      }
      attempts++;
      this.stats.holdAttempts++;
      const t0 = now();
      const ack = (await send(this.socket, 'seat:hold', { seatIds })) as Ack<HoldView>;
      this.stats.holdAck.recordMs(now() - t0);
      if (!ack.ok) {
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
      this.stats.holds++;
      this.stats.seatsHeld += ack.data.seats.length;
      if (p.thinkMs) await sleep(p.thinkMs);
      const r = Math.random();
      if (r < p.bookProbability) {
        this.stats.bookingAttempts++;
        const t1 = now();
        const booked = (await send(this.socket, 'booking:confirm', { holdToken: ack.data.holdToken, idempotencyKey: randomUUID() })) as Ack<BookingView>;
        this.stats.bookAck.recordMs(now() - t1);
        if (booked.ok) {
          this.stats.bookings++;
          this.stats.seatsBooked += booked.data.seats.length;
          this.stats.acked.push({ bookingId: booked.data.id, seatIds: booked.data.seats.map((s) => s.seatId) });
          if (p.oneBooking) this.done = true;
        } else this.stats.error(`book:${booked.error.code}`);
      } else if (r < p.bookProbability + p.expireProbability) {
        this.stats.letExpire++;
        const expiresAt = Date.parse(ack.data.expiresAt);
        for (const s of ack.data.seats) this.awaitingExpiry.set(s.id, { version: s.version, expiresAt });
      } else {
        const t2 = now();
        const rel = await send(this.socket, 'seat:release', { holdToken: ack.data.holdToken });
        this.stats.releaseAck.recordMs(now() - t2);
        if (rel.ok) this.stats.releases++;
        else this.stats.error(`release:${rel.error.code}`);
      }
      if (p.thinkMs) await sleep(p.thinkMs);
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
export function watcher(url: string, eventId: number, token: string | undefined, onBatch: (b: SeatsChanged, receivedAt: number) => void): { socket: ClientSocket; map: SeatMap; ready: Promise<void> } {
  const socket = connect(url, eventId, token);
  const map = new SeatMap();
  socket.on('seats:changed', (b) => {
    const at = wallNow();
    map.applyChanges(b);
    onBatch(b, at);
  });
  const ready = firstSnapshot(socket).then((s) => {
    map.applySnapshot(s);
  });
  return { socket, map, ready };
}
