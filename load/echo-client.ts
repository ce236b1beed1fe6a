/**
 * The clients of the bare ack-echo baseline (load/ack-echo.ts), run in a client thread or process like the buyers
 * (load/client-worker.ts), and of the raw group commit behind a bare Socket.IO server (load/baselines-group-socket.ts,
 * mode 'hold-release'): each is a closed loop (send `seat:hold`, await the ack, send again, no think time) over
 * the buyers' own transport (`connect` and `send` of load/clients.ts: WebSocket only, the default serializer, the
 * same ack timeout), and every change batch goes into one SeatView for the thread's clients, as the buyers' go
 * into their node's.
 */
import { performance } from 'node:perf_hooks';
import { layoutOrder, type LayoutOrder } from '../packages/client/src';
import { connect, onChanges, pickRandom, send, SeatView, type ClientSocket } from './clients';
import { busyCores, readProcStat } from './machine-probe';
import { Latency, now, pool } from './stats';

/** The namespace the bare server serves (`/events/1`), as Evently's buyers connect to `/events/<id>`. */
export const ECHO_EVENT_ID = 1;
/** A layout version as long as Evently's (22 base64url characters), so compact batches are the same size. */
export const ECHO_LAYOUT_VERSION = 'bareAckEchoLayout00001';

/** Seat ids of the bare venue: 1..seats, in layout order. */
export function echoSeatIds(seats: number): number[] {
  return Array.from({ length: seats }, (_, i) => i + 1);
}

/** What one client thread or process of the ack-echo baseline runs. */
export interface EchoJob {
  kind: 'echo';
  url: string;
  clients: number;
  seats: number;
  seatsPerHold: number;
  connectConcurrency: number;
  /** The closed loops stop sending after this long (the ack in flight is still awaited and counted). */
  durationMs: number;
  /** The buyers' seat-state form: compact batches are decoded against the bare layout, as buyers decode theirs. */
  format?: 'json' | 'compact';
  /**
   * 'hold' (default): send `seat:hold` again and again. 'hold-release': hot-seat's contenders, a hold of one random
   * seat and, when the ack says it was won, a `seat:release` of it (load/baselines-group-socket.ts).
   */
  mode?: 'hold' | 'hold-release';
}

/** What an echo job reports when it finishes. */
export interface EchoDone {
  clients: number;
  failures: number;
  /** Acks received (ack timeouts apart). */
  acks: number;
  /** Holds answered, and those won (both are `acks` in the default mode). */
  holds: number;
  won: number;
  timeouts: number;
  /** Emit -> ack of every command, timeouts included (at the 60 s timeout), HDR-encoded. */
  latency: string;
  /** Start -> the last loop's last ack. */
  seconds: number;
  /** Change batches received by this job's clients together while the loops ran. */
  batches: number;
  /** Share of the loops' time this clients' thread was busy (0..1), and the machine's busy cores then (Linux). */
  threadBusy: number;
  busyCores?: number;
}

/** Runs an echo job: connect every client, report, wait for 'start', run the loops, report 'done'. */
export async function runEchoClients(job: EchoJob, post: (m: unknown) => void, next: (type: string) => Promise<unknown>): Promise<void> {
  const ids = echoSeatIds(job.seats);
  const order: LayoutOrder | undefined = job.format === 'compact' ? layoutOrder(ECHO_LAYOUT_VERSION, ids) : undefined;
  const sockets: ClientSocket[] = [];
  let failures = 0;
  let batches = 0;
  let counting = false;
  // One view of the seats for the thread's clients, as the buyers of a thread share one per node (SeatView).
  const view = new SeatView();
  await pool(Array.from({ length: job.clients }, (_, i) => i), job.connectConcurrency, async () => {
    const socket = connect(job.url, ECHO_EVENT_ID, undefined, order);
    onChanges(socket, order, (b) => {
      if (counting) batches++;
      view.applyChanges(b);
    });
    const ok = await new Promise<boolean>((resolve) => {
      socket.once('connect', () => resolve(true));
      socket.once('connect_error', () => resolve(false));
    });
    if (ok) sockets.push(socket);
    else failures++;
  });
  post({ type: 'connected', failures });
  await next('start');
  const latency = new Latency();
  let acks = 0;
  let holds = 0;
  let won = 0;
  let timeouts = 0;
  counting = true;
  const t0 = now();
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = readProcStat();
  const stop = () => now() - t0 >= job.durationMs;
  await Promise.all(
    sockets.map(async (socket) => {
      while (!stop()) {
        const seatIds = pickRandom(ids, job.seatsPerHold);
        const t = now();
        const ack = await send(socket, 'seat:hold', { seatIds });
        latency.recordMs(now() - t);
        if (!ack.ok && ack.error.code === 'ACK_TIMEOUT') {
          timeouts++;
          continue;
        }
        acks++;
        holds++;
        if (!ack.ok) continue;
        won++;
        if (job.mode !== 'hold-release') continue;
        const t2 = now();
        const released = await send(socket, 'seat:release', { holdToken: ack.data.holdToken });
        latency.recordMs(now() - t2);
        if (!released.ok && released.error.code === 'ACK_TIMEOUT') timeouts++;
        else acks++;
      }
    }),
  );
  const seconds = (now() - t0) / 1000;
  const threadBusy = performance.eventLoopUtilization(elu0).utilization;
  const machineCores = busyCores(cpu0, readProcStat());
  counting = false;
  for (const s of sockets) s.close();
  const done: EchoDone = { clients: sockets.length, failures, acks, holds, won, timeouts, latency: latency.encode(), seconds, batches, threadBusy, busyCores: machineCores };
  post({ type: 'done', ...done });
}
