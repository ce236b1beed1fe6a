/**
 * The simulated clients run here, in a worker thread or a child process (load/workers.ts), so their
 * socket.io-client work (parsing every broadcast, seat maps) does not share an event loop with the server nodes
 * under test; a child process also has its own descriptor table, so 10,000+ sockets fit over a few of them.
 * Jobs: 'buyers', 'watchers', 'join', 'queue', 'echo'. Protocol with the generator: client -> {type:'connected'},
 * {type:'progress'}, {type:'done'}; generator -> {type:'start'}, {type:'finish', commitTimes}; a child process
 * first gets {type:'job', job} (a thread has it as workerData).
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { SeatsChanged } from '../packages/client/src';
import type { LayoutOrder } from '../packages/client/src';
import { Buyer, type BuyerPlan } from './buyer';
import { BuyerStats, type SaleLog, type SaleMarks } from './buyer-stats';
import type { EncodedTimeline } from './sale-timeline';
import { connect, fetchLayoutOrder, firstSnapshot, onChanges, SeatChooser, SeatView, watcher, type ClientSocket, type Strategy } from './clients';
import type { LoadUser, SeatInfo } from './harness';
import { Latency, now, pool, sleep } from './stats';
import { probeSale } from './machine-probe';
import { runQueueClients, type QueueJob } from './queue-client';
import { runEchoClients, type EchoJob } from './echo-client';

export type ClientJob =
  | {
      kind: 'buyers';
      urls: string[];
      eventId: number;
      format?: Format;
      users: LoadUser[];
      seats: SeatInfo[];
      strategy: Strategy;
      plan: BuyerPlan;
      connectConcurrency: number;
      durationMs: number;
      /** Stop once this many seats are booked (flash sale sold out). */
      stopAtSeatsBooked?: number;
      /** After the run, wait up to this long for holds left to lapse to come back (expiry delay measurement). */
      lingerMs: number;
      /** The nodes run on the generator's main thread (in-process), so the probe reads that thread as theirs. */
      nodesOnMainThread?: boolean;
    }
  | { kind: 'watchers'; urls: string[]; eventId: number; tokens: (string | null)[]; connectConcurrency: number; waitFor: 'snapshot' | 'connect'; format?: Format }
  | { kind: 'join'; url: string; eventId: number; tokens: (string | null)[]; windowMs: number; timeoutMs: number; format?: Format; layoutUrl?: string }
  | QueueJob
  | EchoJob;

/** Seat-state form the clients ask for: compact (fetches the layout's seat order first) or JSON (the default here). */
export type Format = 'json' | 'compact';

/** The seat order when the job asks for the compact form (from `layoutUrl`, else the first target). */
function orderFor(format: Format | undefined, url: string, eventId: number): Promise<LayoutOrder | undefined> {
  return format === 'compact' ? fetchLayoutOrder(url, eventId) : Promise.resolve(undefined);
}

/** BuyerStats as it crosses the thread boundary. */
export interface SerializedStats {
  counters: Record<string, number>;
  errors: Record<string, number>;
  acked: { bookingId: number; seatIds: number[] }[];
  commands: BuyerStats['commands'];
  marks: SaleMarks;
  sale: SaleLog;
  hist: Record<HistName, string>;
  timeline: EncodedTimeline;
}

const HISTS = ['holdAck', 'bookAck', 'releaseAck', 'refusedAck', 'holdDecision', 'bookDecision', 'expiryDelivery'] as const;
type HistName = (typeof HISTS)[number];

/** The plain counters (cheap: the progress line sends them twice a second). */
function countersOf(s: BuyerStats): Record<string, number> {
  const counters: Record<string, number> = {};
  for (const k of ['holdAttempts', 'holds', 'conflicts', 'bookings', 'bookingAttempts', 'releases', 'letExpire', 'seatsHeld', 'seatsBooked', 'totalSeats', 'connectFailures', 'changeBatches', 'changedSeats'] as const) counters[k] = s[k];
  return counters;
}

export function serializeStats(s: BuyerStats): SerializedStats {
  return {
    counters: countersOf(s),
    errors: s.errors,
    acked: s.acked,
    commands: s.commands,
    marks: s.marks,
    sale: s.sale,
    hist: Object.fromEntries(HISTS.map((h) => [h, s[h].encode()])) as Record<HistName, string>,
    timeline: s.timeline.encode(),
  };
}

export function deserializeStats(x: SerializedStats): BuyerStats {
  const s = new BuyerStats();
  Object.assign(s, x.counters);
  s.errors = x.errors;
  s.acked.push(...x.acked);
  s.commands = x.commands;
  s.marks = x.marks;
  s.sale = x.sale;
  for (const h of HISTS) s[h].merge(x.hist[h]);
  s.timeline.merge(x.timeline);
  return s;
}

/** The link to the generator: a worker thread's parentPort or a child process's IPC channel. */
let post: (m: unknown) => void;

// Messages from the generator not yet asked for: a child process's IPC drops a message nobody listens to
// (a thread's port would hold it), and 'start' may come while a job still fetches its layout.
const inbox: { type: string }[] = [];
const waiting = new Map<string, (m: { type: string }) => void>();

function deliver(m: { type: string }): void {
  const w = waiting.get(m.type);
  if (!w) return void inbox.push(m);
  waiting.delete(m.type);
  w(m);
}

function nextMessage<T extends { type: string }>(type: T['type']): Promise<T> {
  const i = inbox.findIndex((m) => m.type === type);
  if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0] as T);
  return new Promise((resolve) => waiting.set(type, resolve as (m: { type: string }) => void));
}

async function runBuyers(job: Extract<ClientJob, { kind: 'buyers' }>): Promise<void> {
  const stats = new BuyerStats();
  stats.totalSeats = job.seats.length;
  const chooser = new SeatChooser(job.seats, job.strategy);
  const order = await orderFor(job.format, job.urls[0]!, job.eventId);
  // One view of the seats per node: its buyers all receive the same batches (SeatView).
  const views = new Map(job.urls.map((url) => [url, new SeatView()]));
  const buyers = job.users.map((u, i) => {
    const url = job.urls[i % job.urls.length]!;
    return new Buyer(url, job.eventId, u.token, stats, chooser, job.plan, views.get(url)!, undefined, order);
  });
  await pool(buyers, job.connectConcurrency, (b) => b.connect().catch(() => undefined));
  post({ type: 'connected', failures: stats.connectFailures });
  await nextMessage('start');
  const progress = setInterval(() => post({ type: 'progress', counters: { ...countersOf(stats), busy: stats.commands.hold.busy + stats.commands.booking.busy + stats.commands.release.busy }, p99: stats.holdAck.summary().p99 }), 500);
  const t0 = now();
  const probe = probeSale(stats.timeline, () => stats.marks.firstHoldAt, job.nodesOnMainThread === true && !isMainThread);
  const stop = () => now() - t0 > job.durationMs || (job.stopAtSeatsBooked !== undefined && stats.seatsBooked >= job.stopAtSeatsBooked);
  // Batches are counted over the buying phase only: the linger below sees only lapses come back.
  stats.countingBatches = true;
  await Promise.all(buyers.map((b) => b.run(stop)));
  stats.countingBatches = false;
  stats.marks.endedAt = now();
  const seconds = (stats.marks.endedAt - t0) / 1000;
  post({ type: 'ran', seconds });
  const lingerUntil = now() + job.lingerMs;
  while (buyers.some((b) => b.pendingExpiries() > 0) && now() < lingerUntil) await sleep(100);
  probe.stop();
  clearInterval(progress);
  for (const b of buyers) b.close();
  post({ type: 'done', seconds, stats: serializeStats(stats) });
}

async function runWatchers(job: Extract<ClientJob, { kind: 'watchers' }>): Promise<void> {
  // Receipt times per seat state, per node the watcher is connected to (the node that commits delivers to its own
  // sockets, the others hear of it over the adapter); matched with commit (or emit) times the main thread sends
  // at the end.
  const receiptsByNode = job.urls.map(() => new Map<string, number[]>());
  let batches = 0;
  const onBatchOf = (node: number) => (b: SeatsChanged, at: number) => {
    batches++;
    const receipts = receiptsByNode[node]!;
    for (const s of b.seats) {
      const k = `${s.id}:${s.version}`;
      const list = receipts.get(k);
      if (list) list.push(at);
      else receipts.set(k, [at]);
    }
  };
  const sockets: ClientSocket[] = [];
  const failed = job.urls.map(() => 0);
  const order = await orderFor(job.format, job.urls[0]!, job.eventId);
  await pool(job.tokens, job.connectConcurrency, async (t, i) => {
    const node = i % job.urls.length;
    const url = job.urls[node]!;
    const onBatch = onBatchOf(node);
    if (job.waitFor === 'snapshot') {
      const w = watcher(url, job.eventId, t ?? undefined, onBatch, order);
      sockets.push(w.socket);
      await w.ready.catch(() => failed[node]!++);
    } else {
      const s = connect(url, job.eventId, t ?? undefined, order);
      onChanges(s, order, (b) => onBatch(b, performance.timeOrigin + performance.now()));
      sockets.push(s);
      await new Promise<void>((resolve) => {
        s.once('connect', () => resolve());
        s.once('connect_error', () => {
          failed[node]!++;
          resolve();
        });
      });
    }
  });
  const failures = failed.reduce((a, b) => a + b, 0);
  post({ type: 'connected', failures });
  const progress = setInterval(() => post({ type: 'progress', counters: { batches } }), 500);
  const { commitTimes } = await nextMessage<{ type: 'finish'; commitTimes: [string, number][] }>('finish');
  clearInterval(progress);
  for (const s of sockets) s.close();
  const delivery = new Latency();
  const byNode = job.urls.map(() => new Latency());
  const commits = new Map(commitTimes);
  const versionsByNode = job.urls.map(() => new Set<string>());
  let unmatched = 0;
  receiptsByNode.forEach((receipts, node) => {
    for (const [k, times] of receipts) {
      const c = commits.get(k);
      if (c === undefined) {
        unmatched += times.length;
        continue;
      }
      versionsByNode[node]!.add(k);
      for (const t of times) {
        delivery.recordMs(t - c);
        byNode[node]!.recordMs(t - c);
      }
    }
  });
  const watchersByNode = job.urls.map((_, node) => job.tokens.filter((_t, i) => i % job.urls.length === node).length - failed[node]!);
  // The seat versions that reached this process at all (a version merged away in a batch reached nobody), and by node.
  const versions = [...new Set(versionsByNode.flatMap((v) => [...v]))];
  post({ type: 'done', delivery: delivery.encode(), deliveryByNode: byNode.map((h) => h.encode()), batches, unmatched, failures, versions, versionsByNode: versionsByNode.map((v) => [...v]), watchersByNode });
}

async function runJoin(job: Extract<ClientJob, { kind: 'join' }>): Promise<void> {
  // Fetched before the storm, as a browser has the layout cached (or fetches it from a CDN) before it connects.
  const order = await orderFor(job.format, job.layoutUrl ?? job.url, job.eventId);
  // The generator opens the window once every client process is this far (processes start at different times).
  post({ type: 'ready' });
  await nextMessage('start');
  const hist = new Latency();
  let failures = 0;
  let done = 0;
  const sockets: ClientSocket[] = [];
  const progress = setInterval(() => post({ type: 'progress', counters: { done, failures }, p99: hist.summary().p99 }), 250);
  const t0 = now();
  await Promise.all(
    job.tokens.map(async (token, i) => {
      await sleep((job.windowMs * i) / job.tokens.length);
      const start = now();
      const s = connect(job.url, job.eventId, token ?? undefined, order);
      sockets.push(s);
      try {
        await firstSnapshot(s, job.timeoutMs, order);
        hist.recordMs(now() - start);
      } catch {
        failures++;
      }
      done++;
    }),
  );
  const seconds = (now() - t0) / 1000;
  clearInterval(progress);
  for (const s of sockets) s.close();
  post({ type: 'done', latency: hist.encode(), failures, seconds });
}

function runJob(job: ClientJob): void {
  const next = (type: string) => nextMessage(type);
  const run =
    job.kind === 'buyers'
      ? runBuyers(job)
      : job.kind === 'watchers'
        ? runWatchers(job)
        : job.kind === 'queue'
          ? runQueueClients(job, post, next)
          : job.kind === 'echo'
            ? runEchoClients(job, post, next)
            : runJoin(job);
  run.catch((err) => {
    post({ type: 'error', message: (err as Error).stack ?? String(err) });
  });
}

// Only inside a client thread or process: the generator imports this module for its types and (de)serialisers.
// A process is recognised by its argument, not by process.send: jest's own workers have an IPC channel too.
if (!isMainThread && parentPort && (workerData as ClientJob | undefined)?.kind) {
  const port = parentPort;
  post = (m) => port.postMessage(m);
  port.on('message', deliver);
  runJob(workerData as ClientJob);
} else if (process.argv.includes('--load-client-process') && process.send) {
  post = (m) => process.send!(m);
  // Orphaned (the generator died): nothing would ever stop this process and its sockets.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: { type: string; job?: ClientJob }) => (m.type === 'job' ? runJob(m.job!) : deliver(m)));
}
