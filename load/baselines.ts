import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Server } from 'socket.io';
import { Latency, now, pool, sleep, wallNow, type LatencySummary } from './stats';
import { ClientGroup, clientProcessCount, splitJob } from './workers';

export interface BroadcastResult {
  watchers: number;
  /** Client processes the watchers were spread over. */
  processes: number;
  /** Broadcasts made, and the seat changes they carried (`seatsPerBatch` each). */
  emits: number;
  changes: number;
  delivered: number;
  latency: LatencySummary;
  /** `latency` by the node the watchers were connected to (node 0 emits); absent for one bare server. */
  byNode?: LatencySummary[];
}

/** What a bare broadcast baseline is asked to do: the Evently run's emit rate and batch size, to the same watchers. */
export interface BareBroadcastOptions {
  watchers: number;
  /** Broadcasts per second. */
  ratePerS: number;
  /** Seats per broadcast (default 1). */
  seatsPerBatch?: number;
  durationMs: number;
  connectConcurrency: number;
  clientProcs?: number;
}

/**
 * A bare Socket.IO server (no auth, no database) broadcasting `io.to(room).emit` to `watchers` clients (in as
 * many client processes as the Evently watchers: `clientProcs`, default one per 4,000 sockets) at `ratePerS`,
 * payloads shaped like a `seats:changed` batch of `seatsPerBatch` seats. Latency runs from the emit call to each client's receipt.
 */
export async function bareBroadcastBaseline(o: BareBroadcastOptions): Promise<BroadcastResult> {
  const http = createServer();
  const io = new Server(http, { transports: ['websocket'], serveClient: false });
  io.of('/events/1').on('connection', (s) => void s.join('event'));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  const port = (http.address() as AddressInfo).port;
  const job = { kind: 'watchers' as const, urls: [`http://127.0.0.1:${port}`], eventId: 1, tokens: Array.from({ length: o.watchers }, () => null), connectConcurrency: o.connectConcurrency, waitFor: 'connect' as const };
  const group = new ClientGroup(splitJob(job, clientProcessCount(o.watchers, o.clientProcs)));
  try {
    await group.all('connected');
    await sleep(500);
    const sent = await emitAtRate((batch) => io.of('/events/1').to('event').emit('seats:changed', batch), o.ratePerS, o.durationMs, o.seatsPerBatch);
    await sleep(1500);
    group.send({ type: 'finish', commitTimes: [...sent] });
    const latency = new Latency();
    for (const done of await group.all<{ delivery: string }>('done')) latency.merge(done.delivery);
    return { watchers: o.watchers, emits: Math.ceil(sent.size / (o.seatsPerBatch ?? 1)), changes: sent.size, delivered: latency.count, latency: latency.summary(), processes: group.members.length };
  } finally {
    await group.stop();
    io.close();
    await new Promise<void>((r) => http.close(() => r()));
  }
}

/** A batch shaped like Evently's `seats:changed`. */
export interface BareBatch {
  eventId: number;
  cursor: number;
  seats: { id: number; status: string; version: number; expiresAt: string }[];
}

/**
 * Calls `emit` with one batch of `seatsPerBatch` seats every 1/`ratePerS` s for `durationMs` (fewer when an emit
 * takes longer than the interval) and returns each seat change's key (`seat:version`) with the wall-clock instant
 * of its emit, which the watchers measure delivery from.
 */
export async function emitAtRate(emit: (batch: BareBatch) => void, ratePerS: number, durationMs: number, seatsPerBatch = 1): Promise<Map<string, number>> {
  const sent = new Map<string, number>();
  let seq = 0;
  let version = 1;
  const interval = 1000 / ratePerS;
  const end = now() + durationMs;
  while (now() < end) {
    const tick = now();
    seq++;
    const at = wallNow();
    const expiresAt = new Date().toISOString();
    const seats = Array.from({ length: seatsPerBatch }, (_, i) => ({ id: ((seq * seatsPerBatch + i) % 1000) + 1, status: 'held', version: ++version, expiresAt }));
    for (const seat of seats) sent.set(`${seat.id}:${seat.version}`, at);
    emit({ eventId: 1, cursor: seq, seats });
    await sleep(Math.max(0, interval - (now() - tick)));
  }
  return sent;
}

/** A server in a child process whose memory can be sampled on its own (clients stay in this process). */
export interface MemoryProbe {
  url: string;
  eventId: number;
  /** heapUsed + external and rss after a forced GC, in bytes. */
  sample(): Promise<{ heapPlusExternal: number; rss: number }>;
  /** Writes a V8 heap snapshot of the probe's process to `path`. */
  heapSnapshot(path: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts load/mem-child.ts in a child process: 'bare' (an idle Socket.IO server that only accepts
 * connections) or 'evently' (one Evently node on the given database). Requires tsx (node --import tsx).
 */
export async function startMemoryProbe(kind: 'bare' | 'evently', env: Record<string, string> = {}): Promise<MemoryProbe> {
  const child: ChildProcess = fork(join(__dirname, 'mem-child.ts'), [kind], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let seq = 0;
  const pending = new Map<number, (v: any) => void>();
  const ready = new Promise<{ url: string; eventId: number }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`memory probe exited with ${code}`)));
    child.on('message', (m: any) => {
      if (m.type === 'ready') resolve(m);
      else if (m.type === 'sample' || m.type === 'heapsnapshot') pending.get(m.seq)?.(m);
    });
  });
  const info = await ready;
  return {
    ...info,
    sample: () =>
      new Promise((resolve) => {
        const id = ++seq;
        pending.set(id, (m) => resolve({ heapPlusExternal: m.heapUsed + m.external, rss: m.rss }));
        child.send({ type: 'sample', seq: id });
      }),
    heapSnapshot: (path: string) =>
      new Promise((resolve) => {
        const id = ++seq;
        pending.set(id, () => resolve());
        child.send({ type: 'heapsnapshot', seq: id, path });
      }),
    stop: async () => {
      child.removeAllListeners('exit');
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ type: 'stop' });
      await Promise.race([exited, sleep(10_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

export interface IdleMemoryResult {
  connections: number;
  bytesPerConnection: number;
  rssBytesPerConnection: number;
}

/**
 * Opens `n` clients (waiting for each one's `ready`, e.g. its snapshot), `connectConcurrency` at a time, and
 * returns them to close.
 */
async function openClients(n: number, open: () => { ready: Promise<unknown>; close(): void }, connectConcurrency: number): Promise<{ close(): void }[]> {
  const clients: { close(): void }[] = [];
  await pool(
    Array.from({ length: n }, (_, i) => i),
    connectConcurrency,
    async () => {
      const c = open();
      clients.push(c);
      await c.ready;
    },
  );
  return clients;
}

/**
 * Brings a probe to the state a running server is in before the measured connections: the same `n` clients
 * connect and leave once. A cold Evently node otherwise charges the connections with what the first burst
 * grows once: the database pool (each mysql2 connection preallocates a 16,000-entry prepared-statement LRU,
 * ~512 KB) and JIT code (load/heap-breakdown.ts found ~5.5 of the 6.3 KiB per socket over bare to be that).
 */
export async function warmUp(n: number, open: () => { ready: Promise<unknown>; close(): void }, connectConcurrency: number): Promise<void> {
  for (const c of await openClients(n, open, connectConcurrency)) c.close();
  await sleep(1500);
}

/**
 * Memory per idle connection of a probe: warm up (see `warmUp`, unless `warm` is false), sample, connect `n`
 * clients (waiting for `ready` on each, e.g. the snapshot), let things settle, sample again; the difference / `n`.
 */
export async function idleMemoryPerConnection(
  probe: MemoryProbe,
  n: number,
  open: () => { ready: Promise<unknown>; close(): void },
  connectConcurrency: number,
  warm = true,
): Promise<IdleMemoryResult> {
  if (warm) await warmUp(n, open, connectConcurrency);
  await sleep(300);
  const before = await probe.sample();
  const clients = await openClients(n, open, connectConcurrency);
  await sleep(1500);
  const after = await probe.sample();
  for (const c of clients) c.close();
  return {
    connections: n,
    bytesPerConnection: (after.heapPlusExternal - before.heapPlusExternal) / n,
    rssBytesPerConnection: (after.rss - before.rss) / n,
  };
}
