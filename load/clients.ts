import { io as ioc, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, CompactSeatsChanged, EventLayout, HandshakeAuth, SeatsChanged, SeatsSnapshot, SeatState, ServerToClientEvents } from '../packages/client/src';
import { decodeChanges, decodeSnapshot, layoutOrder, type LayoutOrder } from '../packages/client/src';
import { eventNamespace } from '../packages/client/src';
import { SeatMap } from '../packages/client/src';
import type { SeatInfo } from './harness';
import { sharedFrameParser } from './shared-frames';
import { wallNow } from './stats';

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
    // A broadcast's frame is parsed once per process, not once per simulated client (shared-frames.ts).
    parser: sharedFrameParser,
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

/**
 * Compact batches decoded in this process, by event, cursor and size. Every simulated client of a process gets
 * the same broadcast batch; a browser decodes it once on its own machine, so decoding it once per client here
 * would make the generator pay 2,000 browsers' decoding on one thread (34% of the buyers' thread in a profiled
 * flash sale) and delay every ack it measures. Each client still applies the decoded batch to its own map. A
 * batch's cursor is the newest change id it carries, and no two batches carry the same change, so the key is unique.
 */
const decodedBatches = new Map<string, SeatsChanged>();
const DECODED_KEPT = 256;

function decodeShared(b: CompactSeatsChanged, order: LayoutOrder): SeatsChanged {
  const key = `${b.eventId}:${b.cursor}:${b.count}:${b.layoutVersion}`;
  let out = decodedBatches.get(key);
  if (!out) {
    out = decodeChanges(b, order);
    decodedBatches.set(key, out);
    // Maps iterate in insertion order: drop the oldest.
    if (decodedBatches.size > DECODED_KEPT) decodedBatches.delete(decodedBatches.keys().next().value!);
  }
  return out;
}

/** Calls `fn` with every change batch, either form (compact ones decoded against `order`). */
export function onChanges(socket: ClientSocket, order: LayoutOrder | undefined, fn: (b: SeatsChanged) => void): void {
  socket.on('seats:changed', fn);
  if (order) socket.on('seats:changed:compact', (b) => fn(decodeShared(b, order)));
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
   * `count` seats of `free` (the seats the client's map shows available) not in `avoid`, or fewer if that is all
   * there is. random: uniform; hotspot: 80% of buyers aim at the front-centre block while it has seats; best: the
   * best ranked available seats, with a little jitter among the top candidates so not everybody picks the very same.
   * `free` is kept by the caller as changes arrive (FreeSeats), so a choice costs what is free, not the venue:
   * 2,000 buyers scanning a 1,000-seat map on every try saturated the generator's client thread.
   */
  choose(free: ReadonlySet<number>, count: number, avoid: ReadonlySet<number>): number[] {
    const ok = (id: number) => free.has(id) && !avoid.has(id);
    if (this.strategy === 'best') {
      const candidates: number[] = [];
      for (const s of this.ranked) {
        if (ok(s.id)) candidates.push(s.id);
        if (candidates.length >= count * 4) break;
      }
      return pickRandom(candidates, count);
    }
    if (this.strategy === 'hotspot' && Math.random() < 0.8) {
      const hot = [...this.hot].filter(ok);
      if (hot.length) return pickRandom(hot, count);
    }
    const pool: number[] = [];
    for (const id of free) if (!avoid.has(id)) pool.push(id);
    return pickRandom(pool, count);
  }
}

/**
 * What the buyers of one client thread connected to one node know of the seats: one SeatMap and its free seats,
 * kept from every snapshot and change batch. Every buyer on a node receives the same batches, so one view holds
 * what each of their own maps would. 2,000 maps of their own, each updated from every batch, kept the generator's
 * one buyers' thread busy through the rush and delayed every ack it read (load/README.md, issue 17, the buyers'
 * maps), where a real buyer's map costs only that buyer's own browser. A compact batch is decoded once per thread
 * (the same object reaches every socket's listener) and applied once; a JSON batch is an object per socket, and
 * applying it again changes nothing (the map keeps the highest version per seat).
 */
export class SeatView {
  readonly map = new SeatMap();
  readonly free = new FreeSeats();
  private readonly applied = new WeakSet<SeatsChanged>();

  applySnapshot(snapshot: SeatsSnapshot): void {
    this.free.update(this.map.applySnapshot(snapshot));
  }

  applyChanges(batch: SeatsChanged): void {
    if (this.applied.has(batch)) return;
    this.applied.add(batch);
    this.free.update(this.map.applyChanges(batch));
  }
}

/** The ids a SeatMap shows available, kept up to date from what each snapshot or batch changed. */
export class FreeSeats extends Set<number> {
  /** Rebuilds from the whole map (after a snapshot). */
  reset(map: SeatMap): void {
    this.clear();
    for (const s of map.seats.values()) if (s.status === 'available') this.add(s.id);
  }

  /** Applies the seats a change batch actually changed (SeatMap.applyChanges' result). */
  update(changed: readonly SeatState[]): void {
    for (const s of changed) {
      if (s.status === 'available') this.add(s.id);
      else this.delete(s.id);
    }
  }
}

/** `count` distinct ids picked at random from `ids`. */
export function pickRandom(ids: number[], count: number): number[] {
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

/**
 * A watcher for delivery figures: joins (`ready` once its first snapshot arrived, so the server did its join work)
 * and hands each change batch to `onBatch` with the instant it was received.
 *
 * It keeps no seat map. Thousands of simulated watchers share one client process here, and 3,333 maps of 1,000
 * seats are ~280 MB of heap, whose full garbage collections (~250 ms each) delayed every receipt in that process:
 * a cost of the generator, where a real watcher's map lives in its own browser. The bare baseline's clients keep
 * none either. That maps converge to the database is proven by the protocol tests, not here.
 */
export function watcher(
  url: string,
  eventId: number,
  token: string | undefined,
  onBatch: (b: SeatsChanged, receivedAt: number) => void,
  order?: LayoutOrder,
): { socket: ClientSocket; ready: Promise<void> } {
  const socket = connect(url, eventId, token, order);
  onChanges(socket, order, (b) => onBatch(b, wallNow()));
  const ready = firstSnapshot(socket, undefined, order).then(() => undefined);
  return { socket, ready };
}
