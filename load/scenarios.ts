import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Server } from 'socket.io';
import { io as ioc } from 'socket.io-client';
import type { SeatsChanged } from '../server/realtime/protocol';
import { audit, type AuditResult } from './audit';
import { bareBroadcastBaseline, casBaseline, idleMemoryPerConnection, startMemoryProbe, type CasResult, type IdleMemoryResult } from './baselines';
import { Buyer, BuyerStats, connect, firstSnapshot, SeatChooser, watcher, type BuyerPlan, type ClientSocket } from './clients';
import { Cluster, type LoadUser, type SeededEvent } from './harness';
import type { Options, ScenarioName } from './options';
import { figure, machine, type Figure, type Report } from './report';
import { gc, Latency, now, pool, Progress, round, sleep, wallNow } from './stats';

/** rows x seatsPerRow == seats, rows of at most 50 (or 200 for big venues). */
function layout(seats: number): { rows: number; seatsPerRow: number } {
  let spr = Math.min(seats, seats >= 10_000 ? 200 : 50);
  while (seats % spr !== 0) spr--;
  return { rows: seats / spr, seatsPerRow: spr };
}

interface Ctx {
  opts: Options;
  cluster: Cluster;
  figures: Figure[];
  details: Record<string, unknown>;
  eventIds: number[];
  acked: { bookingId: number; seatIds: number[] }[];
}

/** Receipt side of broadcast delivery: commit (observed in the node) to this client's receipt. */
function deliveryRecorder(cluster: Cluster, hist: Latency): (b: SeatsChanged, at: number) => void {
  return (b, at) => {
    for (const s of b.seats) {
      const t = cluster.commitTimes.get(`${s.id}:${s.version}`);
      if (t !== undefined) hist.recordMs(at - t);
    }
  };
}

async function connectBuyers(ctx: Ctx, ev: SeededEvent, users: LoadUser[], plan: BuyerPlan, stats: BuyerStats, chooser: SeatChooser, onBatch?: (b: SeatsChanged, at: number) => void): Promise<Buyer[]> {
  const urls = ctx.cluster.urls;
  const buyers = users.map((u, i) => new Buyer(urls[i % urls.length]!, ev.eventId, u.token, stats, chooser, plan, onBatch));
  await pool(buyers, ctx.opts.connectConcurrency, (b) => b.connect().catch(() => undefined));
  return buyers;
}

async function connectWatchers(ctx: Ctx, eventId: number, tokens: (string | undefined)[], onBatch: (b: SeatsChanged, at: number) => void): Promise<ClientSocket[]> {
  const urls = ctx.cluster.urls;
  const sockets: ClientSocket[] = [];
  let failed = 0;
  await pool(tokens, ctx.opts.connectConcurrency, async (t, i) => {
    const w = watcher(urls[i % urls.length]!, eventId, t, onBatch);
    sockets.push(w.socket);
    await w.ready.catch(() => failed++);
  });
  if (failed) ctx.details.watcherConnectFailures = failed;
  return sockets;
}

function buyerProgress(stats: BuyerStats, extra: () => string = () => ''): (s: number) => string {
  return (s) =>
    `${s.toFixed(0)}s holds ${stats.holds}/${stats.holdAttempts} (${(stats.holdAttempts / Math.max(s, 0.001)).toFixed(0)}/s) conflicts ${stats.conflicts} bookings ${stats.bookings} releases ${stats.releases} expire ${stats.letExpire} p99 ${stats.holdAck.summary().p99}ms ${extra()}`;
}

function buyerSummary(stats: BuyerStats, seconds: number, queries: number): Record<string, unknown> {
  return {
    seconds: round(seconds),
    holdAttempts: stats.holdAttempts,
    holds: stats.holds,
    conflicts: stats.conflicts,
    bookingAttempts: stats.bookingAttempts,
    bookings: stats.bookings,
    seatsBooked: stats.seatsBooked,
    releases: stats.releases,
    letExpire: stats.letExpire,
    errors: stats.errors,
    connectFailures: stats.connectFailures,
    holdAck: stats.holdAck.summary(),
    bookAck: stats.bookAck.summary(),
    releaseAck: stats.releaseAck.summary(),
    expiryDelivery: stats.expiryDelivery.summary(),
    dbQueries: queries,
  };
}

function casFigures(f: Figure[], label: string, stats: BuyerStats, seconds: number, queries: number, cas: CasResult | undefined): void {
  const s = stats.holdAck.summary();
  f.push(figure(`${label}holds/s (successful)`, stats.holds / seconds, '1/s', cas?.successesPerS, { ratio: ['>=', 0.5] }));
  f.push(figure(`${label}hold attempts/s`, stats.holdAttempts / seconds, '1/s', cas?.attemptsPerS, { ratio: ['>=', 0.5] }));
  f.push(figure(`${label}conflicts/s`, stats.conflicts / seconds, '1/s', cas?.conflictsPerS));
  f.push(figure(`${label}hold ack p50`, s.p50, 'ms', cas?.latency.p50));
  f.push(figure(`${label}hold ack p95`, s.p95, 'ms', cas?.latency.p95));
  f.push(figure(`${label}hold ack p99`, s.p99, 'ms', cas?.latency.p99));
  if (queries > 0 && stats.holdAttempts > 0) {
    f.push(figure(`${label}db round trips per hold attempt (all queries / attempts)`, queries / stats.holdAttempts, 'queries', cas?.roundTripsPerAttempt));
  }
}

async function flashSale(ctx: Ctx): Promise<void> {
  const { opts, cluster, figures, details } = ctx;
  const ev = await cluster.seedEvent({ ...layout(opts.seats), holdTtlSeconds: opts.holdTtl, maxSeatsPerOrder: Math.max(10, opts.seatsPerHold), maxSeatsPerUser: Math.max(10, opts.seatsPerHold * 2) });
  ctx.eventIds.push(ev.eventId);
  const [users, staff] = [await cluster.createUsers(opts.buyers), await cluster.createUsers(opts.watchers, 'box_office')];
  const stats = new BuyerStats();
  const delivery = new Latency();
  const chooser = new SeatChooser(ev.seats, opts.strategy);
  const plan: BuyerPlan = { seatsPerHold: opts.seatsPerHold, bookProbability: opts.bookProbability, expireProbability: opts.expireProbability, thinkMs: opts.thinkMs, oneBooking: true, maxAttempts: 1000 };
  const watchers = await connectWatchers(ctx, ev.eventId, staff.map((s) => s.token), deliveryRecorder(cluster, delivery));
  const buyers = await connectBuyers(ctx, ev, users, plan, stats, chooser);
  const progress = new Progress(buyerProgress(stats, () => `booked ${stats.seatsBooked}/${opts.seats}`), opts.progress).start();
  const q0 = cluster.queryCount();
  const t0 = now();
  const stop = () => stats.seatsBooked >= opts.seats || now() - t0 > opts.duration * 1000;
  await Promise.all(buyers.map((b) => b.run(stop)));
  const seconds = (now() - t0) / 1000;
  const queries = cluster.queryCount() - q0;
  // Let left-to-lapse holds expire so their broadcast delay is measured too.
  const waitUntil = now() + (opts.holdTtl + 2) * 1000;
  while (buyers.some((b) => b.pendingExpiries() > 0) && now() < waitUntil) await sleep(100);
  progress.stop();
  for (const b of buyers) b.close();
  for (const w of watchers) w.close();
  ctx.acked.push(...stats.acked);
  details.run = buyerSummary(stats, seconds, queries);
  details.delivery = delivery.summary();

  let cas: CasResult | undefined;
  let bare: Awaited<ReturnType<typeof bareBroadcastBaseline>> | undefined;
  if (opts.baseline && cluster.databaseUrl.startsWith('mysql')) {
    cas = await casBaseline(cluster.databaseUrl, { concurrency: opts.buyers, connections: cluster.opts.poolMax * Math.max(1, cluster.nodes.length), rows: opts.seats, durationMs: Math.min(10, opts.duration) * 1000 });
    details.casBaseline = cas;
  }
  if (opts.baseline) {
    bare = await bareBroadcastBaseline({ watchers: opts.watchers, ratePerS: Math.max(1, stats.holds / seconds), durationMs: Math.min(5, opts.duration) * 1000, connectConcurrency: opts.connectConcurrency });
    details.bareBroadcast = bare;
  }
  casFigures(figures, '', stats, seconds, queries, cas);
  figures.push(figure('bookings/s', stats.bookings / seconds, '1/s'));
  figures.push(figure('booking ack p50', stats.bookAck.summary().p50, 'ms'));
  figures.push(figure('booking ack p99', stats.bookAck.summary().p99, 'ms'));
  figures.push(figure('seats sold', stats.seatsBooked, 'seats'));
  figures.push(figure(`broadcast delivery p50 (commit -> ${opts.watchers} box-office watchers)`, delivery.summary().p50, 'ms', bare?.latency.p50));
  figures.push(figure('broadcast delivery p99', delivery.summary().p99, 'ms', bare?.latency.p99, { ratio: ['<=', 1.5] }));
  if (stats.expiryDelivery.count) figures.push(figure('expired hold -> broadcast p99', stats.expiryDelivery.summary().p99, 'ms', undefined, { value: ['<=', 1000] }));
}

async function hotSeat(ctx: Ctx): Promise<void> {
  const { opts, cluster, figures, details } = ctx;
  const phases: Record<string, unknown>[] = [];
  const rates: { c: number; attempts: number; cas?: number }[] = [];
  for (const c of opts.contenders) {
    const ev = await cluster.seedEvent({ rows: 1, seatsPerRow: opts.seats, holdTtlSeconds: opts.holdTtl, maxSeatsPerOrder: 10, maxSeatsPerUser: 10 });
    ctx.eventIds.push(ev.eventId);
    const users = await cluster.createUsers(c);
    const stats = new BuyerStats();
    const plan: BuyerPlan = { seatsPerHold: opts.seatsPerHold, bookProbability: opts.bookProbability, expireProbability: opts.expireProbability, thinkMs: opts.thinkMs, oneBooking: false, maxAttempts: Number.MAX_SAFE_INTEGER, blind: true };
    const buyers = await connectBuyers(ctx, ev, users, plan, stats, new SeatChooser(ev.seats, 'random'));
    const progress = new Progress(buyerProgress(stats, () => `[${c} contenders]`), opts.progress).start();
    const q0 = cluster.queryCount();
    const t0 = now();
    await Promise.all(buyers.map((b) => b.run(() => now() - t0 > opts.duration * 1000)));
    const seconds = (now() - t0) / 1000;
    const queries = cluster.queryCount() - q0;
    progress.stop();
    for (const b of buyers) b.close();
    ctx.acked.push(...stats.acked);
    let cas: CasResult | undefined;
    if (opts.baseline && cluster.databaseUrl.startsWith('mysql')) {
      cas = await casBaseline(cluster.databaseUrl, { concurrency: c, connections: cluster.opts.poolMax * Math.max(1, cluster.nodes.length), rows: opts.seats, durationMs: Math.min(10, opts.duration) * 1000 });
    }
    phases.push({ contenders: c, ...buyerSummary(stats, seconds, queries), casBaseline: cas });
    casFigures(figures, `[${c}] `, stats, seconds, queries, cas);
    rates.push({ c, attempts: stats.holdAttempts / seconds, cas: cas?.attemptsPerS });
    await sleep(500);
  }
  details.phases = phases;
  if (rates.length >= 2) {
    const lo = rates[0]!;
    const hi = rates[rates.length - 1]!;
    const baselineRatio = lo.cas && hi.cas ? hi.cas / lo.cas : undefined;
    const f = figure(`attempt rate ${hi.c} / ${lo.c} contenders`, hi.attempts / lo.attempts, 'ratio', baselineRatio, { value: ['>=', 0.8] });
    figures.push(f);
  }
}

async function fanOut(ctx: Ctx): Promise<void> {
  const { opts, cluster, figures, details } = ctx;
  const ev = await cluster.seedEvent({ ...layout(opts.seats), holdTtlSeconds: 600, maxSeatsPerOrder: 10, maxSeatsPerUser: 10 });
  ctx.eventIds.push(ev.eventId);
  const [holder] = await cluster.createUsers(1);
  const delivery = new Latency();
  let received = 0;
  const record = deliveryRecorder(cluster, delivery);
  const connectStart = now();
  const progressConnect = new Progress((s) => `${s.toFixed(0)}s connecting watchers: ${received}`, opts.progress);
  const watchers = await connectWatchers(ctx, ev.eventId, Array.from({ length: opts.watchers }, () => undefined), (b, at) => {
    received++;
    record(b, at);
  });
  progressConnect.stop();
  details.connectSeconds = round((now() - connectStart) / 1000);
  const socket = connect(cluster.urls[0]!, ev.eventId, holder!.token);
  await firstSnapshot(socket);
  received = 0;
  const holdAck = new Latency();
  let changes = 0;
  const progress = new Progress((s) => `${s.toFixed(0)}s changes ${changes} deliveries ${received}/${changes * opts.watchers} p99 ${delivery.summary().p99}ms`, opts.progress).start();
  // Each tick holds one seat and releases the previous tick's hold: two committed changes per tick.
  const interval = 1000 / opts.rate;
  const end = now() + opts.duration * 1000;
  let previous: string | undefined;
  let i = 0;
  while (now() < end) {
    const tick = now();
    const seatId = ev.seats[i++ % ev.seats.length]!.id;
    const t0 = now();
    const ack = await (socket as any).timeout(30_000).emitWithAck('seat:hold', { seatIds: [seatId] });
    holdAck.recordMs(now() - t0);
    if (ack.ok) changes++;
    if (previous) {
      const rel = await (socket as any).timeout(30_000).emitWithAck('seat:release', { holdToken: previous });
      if (rel.ok) changes++;
    }
    previous = ack.ok ? ack.data.holdToken : undefined;
    await sleep(Math.max(0, interval - (now() - tick)));
  }
  if (previous) await (socket as any).timeout(30_000).emitWithAck('seat:release', { holdToken: previous });
  await sleep(1500);
  progress.stop();
  const seconds = opts.duration;
  socket.close();
  for (const w of watchers) w.close();
  const d = delivery.summary();
  details.run = { changes, watchers: opts.watchers, batchesReceived: received, deliveries: d.count, expectedDeliveries: changes * opts.watchers, delivery: d, holdAck: holdAck.summary() };
  let bare: Awaited<ReturnType<typeof bareBroadcastBaseline>> | undefined;
  if (opts.baseline) {
    bare = await bareBroadcastBaseline({ watchers: opts.watchers, ratePerS: changes / seconds, durationMs: Math.min(opts.duration, 15) * 1000, connectConcurrency: opts.connectConcurrency });
    details.bareBroadcast = bare;
  }
  figures.push(figure('watchers', opts.watchers, 'sockets'));
  figures.push(figure('seat changes/s', changes / seconds, '1/s'));
  figures.push(figure('deliveries (received / expected)', d.count / Math.max(1, changes * opts.watchers), 'ratio', bare ? bare.delivered / Math.max(1, bare.changes * bare.watchers) : undefined));
  figures.push(figure('delivery p50 (commit -> watcher)', d.p50, 'ms', bare?.latency.p50));
  figures.push(figure('delivery p99 (commit -> watcher)', d.p99, 'ms', bare?.latency.p99, { ratio: ['<=', 1.5] }));
  figures.push(figure('delivery max', d.max, 'ms', bare?.latency.max));
}

async function joinStorm(ctx: Ctx): Promise<void> {
  const { opts, cluster, figures, details } = ctx;
  const ev = await cluster.seedEvent({ ...layout(opts.seats), holdTtlSeconds: 600, maxSeatsPerOrder: 10, maxSeatsPerUser: 10 });
  ctx.eventIds.push(ev.eventId);
  const users = await cluster.createUsers(opts.clients);
  const run = async (url: string, label: string, withToken: boolean) => {
    const hist = new Latency();
    let failures = 0;
    let done = 0;
    const sockets: ReturnType<typeof ioc>[] = [];
    const progress = new Progress((s) => `${s.toFixed(1)}s ${label}: ${done}/${opts.clients} snapshots, p99 ${hist.summary().p99}ms`, opts.progress).start(250);
    const t0 = now();
    await Promise.all(
      users.map(async (u, i) => {
        await sleep((opts.joinWindowMs * i) / opts.clients);
        const start = now();
        const s = withToken ? connect(url, ev.eventId, u.token) : connect(url, ev.eventId);
        sockets.push(s);
        try {
          await firstSnapshot(s, 60_000);
          hist.recordMs(now() - start);
        } catch {
          failures++;
        }
        done++;
      }),
    );
    const seconds = (now() - t0) / 1000;
    progress.stop();
    for (const s of sockets) s.close();
    return { latency: hist.summary(), failures, seconds: round(seconds) };
  };
  const q0 = cluster.queryCount();
  const evently = await run(cluster.urls[0]!, 'evently', true);
  details.run = { ...evently, dbQueries: cluster.queryCount() - q0 };
  let bare: typeof evently | undefined;
  if (opts.baseline) {
    // A bare Socket.IO server that answers each connection with an already built snapshot of the same size.
    const snapshot = await cluster.services.seats.snapshot(ev.eventId);
    details.snapshotBytes = JSON.stringify(snapshot).length;
    const http = createServer();
    const io = new Server(http, { transports: ['websocket'], serveClient: false });
    io.of(/^\/events\/\d+$/).on('connection', (s) => s.emit('seats:snapshot', snapshot));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    await sleep(500);
    bare = await run(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, 'bare', false);
    io.close();
    details.bare = bare;
  }
  figures.push(figure('clients', opts.clients, 'sockets'));
  figures.push(figure('seats in snapshot', opts.seats, 'seats'));
  figures.push(figure('snapshot failures', evently.failures, 'clients', bare?.failures));
  figures.push(figure('time to snapshot p50', evently.latency.p50, 'ms', bare?.latency.p50));
  figures.push(figure('time to snapshot p95', evently.latency.p95, 'ms', bare?.latency.p95));
  figures.push(figure('time to snapshot p99', evently.latency.p99, 'ms', bare?.latency.p99, { value: ['<=', 500] }));
}

async function memoryComparison(ctx: Ctx, eventId: number): Promise<void> {
  const { opts, cluster, figures, details } = ctx;
  if (!opts.memory || opts.memoryConnections <= 0 || opts.url || cluster.opts.dialect !== 'mysql') return;
  const n = opts.memoryConnections;
  const env = {
    NODE_ENV: 'production',
    DATABASE_URL: cluster.databaseUrl,
    JWT_SECRET: cluster.config.jwt.secret,
    LOG_LEVEL: 'error',
    SEED_DEMO: 'false',
    LOAD_EVENT_ID: String(eventId),
  };
  const measure = async (kind: 'bare' | 'evently'): Promise<IdleMemoryResult> => {
    const probe = await startMemoryProbe(kind, kind === 'evently' ? env : {});
    try {
      // Evently sockets are measured after their snapshot arrived (what an idle seat map costs); bare ones once connected.
      return await idleMemoryPerConnection(
        probe,
        n,
        () => {
          const s = connect(probe.url, kind === 'evently' ? eventId : 1);
          const ready =
            kind === 'evently'
              ? firstSnapshot(s)
              : new Promise<void>((resolve, reject) => {
                  s.once('connect', () => resolve());
                  s.once('connect_error', reject);
                });
          return { ready, close: () => s.close() };
        },
        opts.connectConcurrency,
      );
    } finally {
      await probe.stop();
    }
  };
  const bare = await measure('bare');
  const evently = await measure('evently');
  details.memory = { bare, evently };
  figures.push(figure(`memory per idle connection (heap+external, ${n} sockets)`, evently.bytesPerConnection / 1024, 'KiB', bare.bytesPerConnection / 1024, { ratio: ['<=', 1.2] }));
  figures.push(figure('memory per idle connection (rss)', evently.rssBytesPerConnection / 1024, 'KiB', bare.rssBytesPerConnection / 1024));
}

async function soak(ctx: Ctx): Promise<void> {
  const { opts, cluster, figures, details } = ctx;
  const ev = await cluster.seedEvent({ ...layout(opts.seats), holdTtlSeconds: opts.holdTtl, maxSeatsPerOrder: 10, maxSeatsPerUser: 20 });
  ctx.eventIds.push(ev.eventId);
  const [users, staff] = [await cluster.createUsers(opts.buyers), await cluster.createUsers(opts.watchers, 'box_office')];
  const stats = new BuyerStats();
  const delivery = new Latency();
  const watchers = await connectWatchers(ctx, ev.eventId, staff.map((s) => s.token), deliveryRecorder(cluster, delivery));
  const plan: BuyerPlan = { seatsPerHold: opts.seatsPerHold, bookProbability: opts.bookProbability, expireProbability: opts.expireProbability, thinkMs: opts.thinkMs, oneBooking: false, maxAttempts: Number.MAX_SAFE_INTEGER };
  const buyers = await connectBuyers(ctx, ev, users, plan, stats, new SeatChooser(ev.seats, opts.strategy));
  const samples: { t: number; heapMiB: number; rssMiB: number }[] = [];
  const sample = (t: number) => {
    gc();
    const m = process.memoryUsage();
    samples.push({ t: round(t, 1), heapMiB: round(m.heapUsed / 2 ** 20), rssMiB: round(m.rss / 2 ** 20) });
  };
  const progress = new Progress(buyerProgress(stats, () => `heap ${samples.at(-1)?.heapMiB ?? '?'} MiB`), opts.progress).start();
  const q0 = cluster.queryCount();
  const t0 = now();
  sample(0);
  const sampler = setInterval(() => sample((now() - t0) / 1000), Math.max(1000, (opts.duration * 1000) / 20));
  await Promise.all(buyers.map((b) => b.run(() => now() - t0 > opts.duration * 1000)));
  clearInterval(sampler);
  const seconds = (now() - t0) / 1000;
  const queries = cluster.queryCount() - q0;
  sample(seconds);
  progress.stop();
  for (const b of buyers) b.close();
  for (const w of watchers) w.close();
  ctx.acked.push(...stats.acked);
  // Growth: least-squares slope of heap over the second half of the run (after warm-up), MiB per minute.
  const tail = samples.filter((s) => s.t >= seconds / 2);
  const slope = (() => {
    if (tail.length < 2) return 0;
    const mx = tail.reduce((a, s) => a + s.t, 0) / tail.length;
    const my = tail.reduce((a, s) => a + s.heapMiB, 0) / tail.length;
    const num = tail.reduce((a, s) => a + (s.t - mx) * (s.heapMiB - my), 0);
    const den = tail.reduce((a, s) => a + (s.t - mx) ** 2, 0);
    return den ? (num / den) * 60 : 0;
  })();
  details.run = buyerSummary(stats, seconds, queries);
  details.memorySamples = samples;
  details.delivery = delivery.summary();
  figures.push(figure('connections (buyers + watchers)', opts.buyers + opts.watchers, 'sockets'));
  figures.push(figure('holds/s (successful)', stats.holds / seconds, '1/s'));
  figures.push(figure('hold ack p99', stats.holdAck.summary().p99, 'ms'));
  figures.push(figure('broadcast delivery p99', delivery.summary().p99, 'ms'));
  if (stats.expiryDelivery.count) figures.push(figure('expired hold -> broadcast p99', stats.expiryDelivery.summary().p99, 'ms', undefined, { value: ['<=', 1000] }));
  figures.push(figure('heap growth, 2nd half (load process: servers + clients)', slope, 'MiB/min'));
  if (queries > 0) figures.push(figure('db round trips per hold attempt', queries / Math.max(1, stats.holdAttempts), 'queries'));
  await memoryComparison(ctx, ev.eventId);
}

const RUNNERS: Record<ScenarioName, (ctx: Ctx) => Promise<void>> = {
  'flash-sale': flashSale,
  'hot-seat': hotSeat,
  'fan-out': fanOut,
  'join-storm': joinStorm,
  soak,
};

/** Runs one scenario end to end (cluster up, load, baselines, audit, cluster down) and returns its report. */
export async function runScenario(scenario: ScenarioName, opts: Options, command: string): Promise<Report> {
  const cluster = new Cluster({
    nodes: opts.nodes,
    url: opts.url,
    databaseUrl: opts.databaseUrl,
    jwtSecret: process.env.JWT_SECRET,
    dialect: opts.dialect,
    mysqlUrl: opts.mysqlUrl,
    redisUrl: opts.redisUrl,
    poolMax: opts.pool,
    env: opts.env,
    logLevel: opts.logLevel,
  });
  const started = wallNow();
  const date = new Date().toISOString();
  const ctx: Ctx = { opts, cluster, figures: [], details: {}, eventIds: [], acked: [] };
  let auditResult: AuditResult | undefined;
  // Servers and clients share this process's event loop: its delay bounds every latency measured here.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  try {
    await cluster.start();
    await RUNNERS[scenario](ctx);
    loopDelay.disable();
    ctx.details.eventLoopDelayMs = { p50: round(loopDelay.percentile(50) / 1e6), p99: round(loopDelay.percentile(99) / 1e6), max: round(loopDelay.max / 1e6) };
    auditResult = await audit(cluster.db, ctx.eventIds, ctx.acked);
    if (cluster.queryTimes) {
      ctx.details.queryTimes = Object.fromEntries(
        [...cluster.queryTimes].sort((a, b) => b[1].ms - a[1].ms).map(([k, v]) => [k, { n: v.n, avgMs: round(v.ms / v.n), maxMs: round(v.max), totalS: round(v.ms / 1000) }]),
      );
    }
  } finally {
    await cluster.close();
  }
  return {
    scenario,
    command,
    date,
    machine: machine(),
    options: { ...opts, nodes: opts.url ? 'external' : cluster.nodes.length },
    durationS: round((wallNow() - started) / 1000),
    figures: ctx.figures,
    details: ctx.details,
    audit: auditResult,
  };
}
