/**
 * The bare Socket.IO ack-echo baseline: what this machine gives a crowd of closed-loop clients when the server
 * does nothing but answer. A bare Socket.IO server (no database, no Evently code) acks every `seat:hold` at once
 * with a HoldView-shaped answer and broadcasts change batches at the rate the Evently run's buyers received them;
 * as many clients as buyers, in the buyers' client thread arrangement, send, await the ack and send again. If
 * this server's own ack p99 is above a target, the target is below the machine's bound for that client model.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { ECHO_EVENT_ID, ECHO_LAYOUT_VERSION, echoSeatIds, type EchoDone, type EchoJob } from './echo-client';
import { Latency, now, round, sleep, type LatencySummary } from './stats';
import { ClientProcess, ClientThread } from './workers';

/** What the ack-echo baseline measured (`details.bareAck`). */
export interface AckEchoResult {
  clients: number;
  /** Client processes the clients were spread over; 0: one client thread, where the buyers run. */
  processes: number;
  connectFailures: number;
  /** Start -> the last closed loop's last ack. */
  seconds: number;
  acks: number;
  acksPerS: number;
  timeouts: number;
  /** Emit -> ack at the client, every command. */
  latency: LatencySummary;
  /** Change batches per second asked for, and sent (to every client). */
  batchesPerSAsked: number;
  batchesPerSSent: number;
  seatsPerBatch: number;
  /** Change batches a client received per second, mean over the clients. */
  batchesPerClientPerS: number;
  /** Share of the loops' time the clients' threads were busy (mean over them, %), and the machine's busy cores then. */
  clientThreadBusyPct: number;
  machineBusyCores?: number;
  /** JSON bytes of one ack (`{ok, data}`) for a hold of `seatsPerHold` seats. */
  ackBytes: number;
}

export interface AckEchoOptions {
  /** Closed-loop clients: as many as the run's buyers. */
  clients: number;
  /** Change batches the server broadcasts per second (0: none): what each buyer received in the run. */
  batchesPerS: number;
  /** Seats in each batch (the run's mean, rounded, at least 1). */
  seatsPerBatch: number;
  /** Seats in the bare venue (ids 1..seats): holds and batches name them. */
  seats: number;
  seatsPerHold: number;
  durationMs: number;
  connectConcurrency: number;
  /** The buyers' seat-state form: compact batches (byte arrays, one frame) or JSON seat objects. */
  format: 'json' | 'compact';
  /** Unset: one client thread, as the buyers run; N: N client processes (load/workers.ts). */
  clientProcs?: number;
  /** The hold TTL the acks' expiry times show (as Evently's HoldView would). */
  holdTtlS?: number;
}

/** An answer shaped like Evently's to `seat:hold`: `{ok: true, data: HoldView}` for the seats asked for. */
export function holdAck(payload: unknown, holdTtlMs: number): { ok: true; data: Record<string, unknown> } {
  const asked = (payload as { seatIds?: unknown } | undefined)?.seatIds;
  const seatIds = Array.isArray(asked) ? asked.filter((id): id is number => Number.isInteger(id)).slice(0, 10) : [];
  const t = Date.now();
  const expiresAt = new Date(t + holdTtlMs).toISOString();
  // The token as Evently's ids.ts makes it (24 random bytes, base64url); the hard cap on extends at 4 x TTL.
  return {
    ok: true,
    data: { holdToken: randomBytes(24).toString('base64url'), eventId: ECHO_EVENT_ID, expiresAt, maxExpiresAt: new Date(t + 4 * holdTtlMs).toISOString(), seats: seatIds.map((id) => ({ id, status: 'held', version: 2, expiresAt })) },
  };
}

/** Unsigned LEB128 varints as a plain byte array (the compact form's batch fields), written here, not imported. */
function varintBytes(values: number[]): number[] {
  const out: number[] = [];
  for (let v of values) {
    while (v >= 0x80) {
      out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    out.push(v);
  }
  return out;
}

/**
 * Change batch number `seq` of `n` distinct seats of 1..seats in the buyers' form: held, booked and available
 * in turn, versions rising with `seq` (so every client's SeatMap takes them), held seats expiring a TTL from now.
 */
export function changeBatch(seq: number, n: number, seats: number, format: 'json' | 'compact', holdTtlMs: number): { event: string; payload: object } {
  const picked = new Set<number>();
  const want = Math.max(1, Math.min(n, seats));
  while (picked.size < want) picked.add(Math.floor(Math.random() * seats));
  const indexes = [...picked].sort((a, b) => a - b);
  const status = indexes.map((_, k) => [1, 2, 0][(seq + k) % 3]!);
  const version = seq + 1;
  const expiresBase = Date.now() + holdTtlMs;
  if (format === 'json') {
    const expiresAt = new Date(expiresBase).toISOString();
    const names = ['available', 'held', 'booked'];
    const list = indexes.map((i, k) => ({ id: i + 1, status: names[status[k]!]!, version, ...(status[k] === 1 ? { expiresAt } : {}) }));
    return { event: 'seats:changed', payload: { eventId: ECHO_EVENT_ID, cursor: seq, seats: list } };
  }
  const held = status.filter((s) => s === 1).length;
  return {
    event: 'seats:changed:compact',
    payload: {
      eventId: ECHO_EVENT_ID,
      cursor: seq,
      layoutVersion: ECHO_LAYOUT_VERSION,
      count: indexes.length,
      indexes: varintBytes(indexes.map((i, k) => (k === 0 ? i : i - indexes[k - 1]!))),
      status,
      versions: varintBytes(indexes.map(() => version)),
      expiresBase,
      // 1 + ms after expiresBase: the batch's holds expire within a few ms of each other, as a 20 ms batch's do.
      expiresAt: varintBytes(Array.from({ length: held }, (_, k) => 1 + k)),
    },
  };
}

/** Runs the baseline: bare server up, clients connected, `durationMs` of closed loops under the broadcasts. */
export async function bareAckBaseline(o: AckEchoOptions): Promise<AckEchoResult> {
  const holdTtlMs = (o.holdTtlS ?? 30) * 1000;
  const http = createServer();
  // The buyers' transport: WebSocket only, Socket.IO's default parser (Evently sets no other).
  const io = new Server(http, { transports: ['websocket'], serveClient: false });
  const nsp = io.of(`/events/${ECHO_EVENT_ID}`);
  nsp.on('connection', (socket) => {
    void socket.join('event');
    socket.on('seat:hold', (payload: unknown, ack: unknown) => {
      if (typeof ack === 'function') ack(holdAck(payload, holdTtlMs));
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const job: EchoJob = { kind: 'echo', url, clients: o.clients, seats: o.seats, seatsPerHold: o.seatsPerHold, connectConcurrency: o.connectConcurrency, durationMs: o.durationMs, format: o.format };
  const parts = o.clientProcs ? Math.max(1, Math.min(o.clientProcs, o.clients)) : 0;
  const runners = parts
    ? Array.from({ length: parts }, (_, p) => {
        const clients = Math.floor(o.clients / parts) + (p < o.clients % parts ? 1 : 0);
        return new ClientProcess({ ...job, clients, connectConcurrency: Math.max(1, Math.ceil(o.connectConcurrency / parts)) });
      })
    : [new ClientThread(job)];
  const all = <T>(type: string) => Promise.all(runners.map((r) => r.next<T>(type)));
  const perBatch = Math.max(1, Math.min(Math.round(o.seatsPerBatch), o.seats));
  let broadcasting = true;
  let sent = 0;
  let broadcastS = 0;
  try {
    const connectFailures = (await all<{ failures: number }>('connected')).reduce((n, m) => n + m.failures, 0);
    await sleep(500);
    for (const r of runners) r.send({ type: 'start' });
    const broadcasts = (async () => {
      if (!(o.batchesPerS > 0)) return;
      const interval = 1000 / o.batchesPerS;
      const t0 = now();
      while (broadcasting) {
        // Catch up when the loop runs late (it shares the thread with the server's acks), at most 5 at once.
        const due = Math.min(5, Math.floor((now() - t0) / interval) + 1 - sent);
        for (let i = 0; i < due; i++) {
          const b = changeBatch(++sent, perBatch, o.seats, o.format, holdTtlMs);
          nsp.to('event').emit(b.event, b.payload);
        }
        await sleep(Math.max(0, t0 + sent * interval - now()));
      }
      broadcastS = (now() - t0) / 1000;
    })();
    const done = await all<EchoDone>('done');
    broadcasting = false;
    await broadcasts;
    const latency = new Latency();
    for (const d of done) latency.merge(d.latency);
    const seconds = Math.max(...done.map((d) => d.seconds));
    const clients = done.reduce((n, d) => n + d.clients, 0);
    const acks = done.reduce((n, d) => n + d.acks, 0);
    return {
      clients,
      processes: parts,
      connectFailures,
      seconds: round(seconds, 3),
      acks,
      acksPerS: round(acks / seconds, 1),
      timeouts: done.reduce((n, d) => n + d.timeouts, 0),
      latency: latency.summary(),
      batchesPerSAsked: round(o.batchesPerS, 2),
      batchesPerSSent: broadcastS ? round(sent / broadcastS, 2) : 0,
      seatsPerBatch: perBatch,
      batchesPerClientPerS: clients ? round(done.reduce((n, d) => n + d.batches, 0) / clients / seconds, 2) : 0,
      ackBytes: JSON.stringify(holdAck({ seatIds: echoSeatIds(o.seatsPerHold) }, holdTtlMs)).length,
      clientThreadBusyPct: Math.round((100 * done.reduce((n, d) => n + d.threadBusy, 0)) / done.length),
      machineBusyCores: mean(done.flatMap((d) => (d.busyCores === undefined ? [] : [d.busyCores]))),
    };
  } finally {
    broadcasting = false;
    await Promise.all(runners.map((r) => r.stop()));
    await io.close();
  }
}

/** The mean of some readings, 2 decimals; undefined for none. */
function mean(xs: number[]): number | undefined {
  return xs.length ? round(xs.reduce((a, b) => a + b, 0) / xs.length, 2) : undefined;
}
