import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Server } from 'socket.io';
import { encodeSnapshot } from '../server/realtime/compact';
import type { Ack, CompactSeatsSnapshot, HoldView } from '../server/realtime/protocol';
import { audit, type AuditResult } from './audit';
import { bareBroadcastBaseline, casBaseline, idleMemoryPerConnection, sqliteCasBaseline, sqliteKnexCasBaseline, startMemoryProbe, type CasResult, type IdleMemoryResult } from './baselines';
import { BuyerStats, COMMAND_KINDS, connect, firstSnapshot, send, type BuyerPlan, type Strategy } from './clients';
import { deserializeStats, type SerializedStats } from './client-worker';
import { ClientGroup, ClientThread, clientProcessCount, splitJob } from './workers';
import { Cluster, type LoadUser, type SeededEvent } from './harness';
import type { Options, ScenarioName } from './options';
import { figure, machine, type Figure, type Report } from './report';
import { loginStorm } from './login-storm';
import { queueScenario } from './queue-scenario';
import { gc, Latency, now, Progress, round, sleep, wallNow } from './stats';

/** rows x seatsPerRow == seats, rows of at most 50 (or 200 for big venues). */
export function layout(seats: number): { rows: number; seatsPerRow: number } {
  let spr = Math.min(seats, seats >= 10_000 ? 200 : 50);
  while (seats % spr !== 0) spr--;
  return { rows: seats / spr, seatsPerRow: spr };
}

export interface Ctx {
  opts: Options;
  cluster: Cluster;
  figures: Figure[];
  details: Record<string, unknown>;
  eventIds: number[];
  acked: { bookingId: number; seatIds: number[] }[];
}

/**
 * Watchers spread over client processes (`--client-procs`, default one per 4,000 sockets); `finish()` matches
 * their receipts with the cluster's commit times in each process and merges the histograms.
 */
async function startWatchers(ctx: Ctx, eventId: number, tokens: (string | null)[]): Promise<{ finish(): Promise<Latency> }> {
  if (tokens.length === 0) return { finish: async () => new Latency() };
  const job = { kind: 'watchers' as const, urls: ctx.cluster.urls, eventId, tokens, connectConcurrency: ctx.opts.connectConcurrency, waitFor: 'snapshot' as const, format: ctx.opts.format };
  const group = new ClientGroup(splitJob(job, clientProcessCount(tokens.length, ctx.opts.clientProcs)));
  try {
    const failures = (await group.all<{ failures: number }>('connected')).reduce((n, m) => n + m.failures, 0);
    if (failures) ctx.details.watcherConnectFailures = failures;
  } catch (err) {
    await group.stop();
    throw err;
  }
  ctx.details.watcherProcesses = group.members.length;
  return {
    finish: async () => {
      await sleep(500);
      group.send({ type: 'finish', commitTimes: [...ctx.cluster.commitTimes] });
      try {
        const parts = await group.all<WatchersDone>('done');
        ctx.details.watcherBatchesPerProcess = parts.map((p) => p.batches);
        return mergeDelivery(parts);
      } finally {
        await group.stop();
      }
    },
  };
}

/** What a watchers job reports when it finishes (client-worker.ts). */
export interface WatchersDone {
  delivery: string;
  batches: number;
  unmatched: number;
  failures: number;
}

/** One histogram of every process's deliveries. */
export function mergeDelivery(parts: WatchersDone[]): Latency {
  const h = new Latency();
  for (const p of parts) h.merge(p.delivery);
  return h;
}

interface BuyersRun {
  stats: BuyerStats;
  seconds: number;
  queries: number;
}

/** Buyers in a client thread: connect them all, then open the sale at once; returns what they measured. */
export async function runBuyers(
  ctx: Ctx,
  ev: SeededEvent,
  users: LoadUser[],
  plan: BuyerPlan,
  o: { strategy: Strategy; durationMs: number; stopAtSeatsBooked?: number; lingerMs: number; label?: string; onStart?: () => void },
): Promise<BuyersRun> {
  const thread = new ClientThread({
    kind: 'buyers',
    urls: ctx.cluster.urls,
    eventId: ev.eventId,
    format: ctx.opts.format,
    users,
    seats: ev.seats,
    strategy: o.strategy,
    plan,
    connectConcurrency: ctx.opts.connectConcurrency,
    durationMs: o.durationMs,
    stopAtSeatsBooked: o.stopAtSeatsBooked,
    lingerMs: o.lingerMs,
  });
  try {
    await thread.next('connected');
    const progress = new Progress((s) => {
      const c = thread.progress.counters;
      return `${s.toFixed(0)}s ${o.label ?? ''}holds ${c.holds ?? 0}/${c.holdAttempts ?? 0} (${((c.holdAttempts ?? 0) / Math.max(s, 0.001)).toFixed(0)}/s) conflicts ${c.conflicts ?? 0} busy ${c.busy ?? 0} bookings ${c.bookings ?? 0} (${c.seatsBooked ?? 0} seats) releases ${c.releases ?? 0} lapse ${c.letExpire ?? 0} p99 ${thread.progress.p99 ?? 0}ms`;
    }, ctx.opts.progress).start();
    const status0 = await ctx.cluster.dbStatus();
    const q0 = ctx.cluster.queryCount();
    thread.send({ type: 'start' });
    o.onStart?.();
    await thread.next('ran');
    const queries = ctx.cluster.queryCount() - q0;
    const status1 = await ctx.cluster.dbStatus();
    // Global MariaDB counters over the buyers' phase (row-lock waits explain slow statements).
    ctx.details[`mariadbStatus${o.label ? ` ${o.label.trim()}` : ''}`] = Object.fromEntries(Object.keys(status1).map((k) => [k, status1[k]! - (status0[k] ?? 0)]));
    // Group commit, seen from the nodes: batches, commands per batch, time per batch (all nodes, whole run so far).
    ctx.details[`seatBatches${o.label ? ` ${o.label.trim()}` : ''}`] = await seatBatchStats(ctx.cluster.nodes);
    const done = await thread.next<{ seconds: number; stats: SerializedStats }>('done');
    progress.stop();
    return { stats: deserializeStats(done.stats), seconds: done.seconds, queries };
  } finally {
    await thread.stop();
  }
}

function buyerSummary(stats: BuyerStats, seconds: number, queries: number): Record<string, unknown> {
  const m = stats.marks;
  const sinceFirstHold = (t?: number) => (t === undefined || m.firstHoldAt === undefined ? undefined : round((t - m.firstHoldAt) / 1000, 3));
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
    // Per kind: sent, BUSY, RATE_LIMITED, ack timeouts (none of them attempts).
    commands: stats.commands,
    sold95S: sinceFirstHold(m.sold95At),
    soldOutS: sinceFirstHold(m.soldOutAt),
    errors: stats.errors,
    connectFailures: stats.connectFailures,
    holdAck: stats.holdAck.summary(),
    bookAck: stats.bookAck.summary(),
    releaseAck: stats.releaseAck.summary(),
    refusedAck: stats.refusedAck.summary(),
    holdDecision: stats.holdDecision.summary(),
    bookDecision: stats.bookDecision.summary(),
    expiryDelivery: stats.expiryDelivery.summary(),
    dbQueries: queries,
  };
}

/**
 * The raw compare-and-set baseline on the cluster's own engine, in the same run: bare mysql2 on MariaDB (over
 * as many connections as the nodes' pools together), bare better-sqlite3 on a scratch file for SQLite. On
 * SQLite the same race through knex (`viaKnex`, at most 5 s) goes into the JSON too.
 */
async function casBaselineFor(ctx: Ctx, o: { concurrency: number; rows: number; durationMs: number }): Promise<{ raw?: CasResult; viaKnex?: CasResult }> {
  const { opts, cluster } = ctx;
  if (!opts.baseline) return {};
  if (cluster.databaseUrl.startsWith('mysql')) return { raw: await casBaseline(cluster.databaseUrl, { ...o, connections: cluster.opts.poolMax * Math.max(1, cluster.nodes.length) }) };
  if (cluster.databaseUrl.startsWith('sqlite')) {
    const raw = await sqliteCasBaseline(o);
    const viaKnex = await sqliteKnexCasBaseline({ ...o, durationMs: Math.min(5000, o.durationMs) });
    return { raw, viaKnex };
  }
  return {};
}

/** Attempts use decided hold commands only (BUSY/RATE_LIMITED refusals are counted apart, see refusalFigures). */
function casFigures(
  f: Figure[],
  label: string,
  stats: BuyerStats,
  seconds: number,
  queries: number,
  cas: CasResult | undefined,
  targets: { holdAckP99Ms?: number; attemptsRatio?: number } = {},
): void {
  const s = stats.holdAck.summary();
  f.push(figure(`${label}holds/s (successful)`, stats.holds / seconds, '1/s', cas?.successesPerS, { ratio: ['>=', 0.5] }));
  f.push(figure(`${label}hold attempts/s`, stats.holdAttempts / seconds, '1/s', cas?.attemptsPerS, { ratio: ['>=', targets.attemptsRatio ?? 0.5] }));
  f.push(figure(`${label}conflicts/s`, stats.conflicts / seconds, '1/s', cas?.conflictsPerS));
  f.push(figure(`${label}hold ack p50`, s.p50, 'ms', cas?.latency.p50));
  f.push(figure(`${label}hold ack p95`, s.p95, 'ms', cas?.latency.p95));
  f.push(figure(`${label}hold ack p99`, s.p99, 'ms', cas?.latency.p99, targets.holdAckP99Ms ? { value: ['<=', targets.holdAckP99Ms] } : undefined));
  if (queries > 0 && stats.holdAttempts > 0) {
    f.push(figure(`${label}db round trips per hold attempt (all queries / attempts)`, queries / stats.holdAttempts, 'queries', cas?.roundTripsPerAttempt));
  }
}

/**
 * BUSY and RATE_LIMITED answers, per kind of command (holds, bookings) and as a share of that kind's commands
 * sent, then BUSY over every command the buyers sent (holds, bookings, releases) against the issue's <= 1%.
 */
function refusalFigures(f: Figure[], label: string, stats: BuyerStats): void {
  const pct = (n: number, of: number) => (of ? (100 * n) / of : 0);
  for (const kind of ['hold', 'booking'] as const) {
    const c = stats.commands[kind];
    if (c.sent === 0) continue;
    f.push(figure(`${label}${kind} commands sent`, c.sent, 'commands'));
    f.push(figure(`${label}${kind} BUSY answers`, c.busy, 'answers'));
    f.push(figure(`${label}${kind} BUSY share of ${kind} commands`, pct(c.busy, c.sent), '%'));
    f.push(figure(`${label}${kind} RATE_LIMITED answers`, c.rateLimited, 'answers'));
    f.push(figure(`${label}${kind} RATE_LIMITED share of ${kind} commands`, pct(c.rateLimited, c.sent), '%'));
  }
  const sent = COMMAND_KINDS.reduce((a, k) => a + stats.commands[k].sent, 0);
  const busy = COMMAND_KINDS.reduce((a, k) => a + stats.commands[k].busy, 0);
  f.push(figure(`${label}BUSY share of commands`, pct(busy, sent), '%', undefined, { value: ['<=', 1] }));
}

/**
 * Sell-out: seats sold, first hold sent -> the booking ack that reached 95% of the seats (target <= 10 s) and
 * the one that sold out; when the run ended first, the run's length stands in (noted, never met) and the seats
 * sold at the deadline are reported instead of the sell-out time.
 */
function sellOutFigures(f: Figure[], stats: BuyerStats, seconds: number, totalSeats: number): void {
  const m = stats.marks;
  const since = (t?: number) => (t === undefined || m.firstHoldAt === undefined ? undefined : (t - m.firstHoldAt) / 1000);
  f.push(figure('seats sold', stats.seatsBooked, 'seats'));
  const t95 = since(m.sold95At);
  if (t95 !== undefined) f.push(figure('time to 95% sold (first hold -> 95% of seats booked)', t95, 's', undefined, { value: ['<=', 10] }));
  else f.push(figure('time to 95% sold (first hold -> 95% of seats booked)', seconds, 's', undefined, { value: ['<=', 10] }, `not reached: ${stats.seatsBooked} of ${totalSeats} sold; value is the run's length`));
  const out = since(m.soldOutAt);
  if (out !== undefined) f.push(figure('time to sell out', out, 's'));
  else f.push(figure('seats sold at the deadline', stats.seatsBooked, 'seats', undefined, { value: ['>=', totalSeats] }, `not sold out in ${round(seconds, 1)} s`));
  f.push(figure('booked seats/s', stats.seatsBooked / seconds, '1/s'));
}

async function flashSale(ctx: Ctx): Promise<void> {
  const { opts, cluster, figures, details } = ctx;
  const ev = await cluster.seedEvent({ ...layout(opts.seats), holdTtlSeconds: opts.holdTtl, maxSeatsPerOrder: Math.max(10, opts.seatsPerHold), maxSeatsPerUser: Math.max(10, opts.seatsPerHold * 2) });
  ctx.eventIds.push(ev.eventId);
  const [users, staff] = [await cluster.createUsers(opts.buyers), await cluster.createUsers(opts.watchers, 'box_office')];
  const plan: BuyerPlan = { seatsPerHold: opts.seatsPerHold, bookProbability: opts.bookProbability, expireProbability: opts.expireProbability, thinkMs: opts.thinkMs, oneBooking: true, maxAttempts: 1000 };
  const watchers = await startWatchers(ctx, ev.eventId, staff.map((s) => (opts.watcherRole === 'anonymous' ? null : s.token)));
  const { stats, seconds, queries } = await runBuyers(ctx, ev, users, plan, {
    strategy: opts.strategy,
    durationMs: opts.duration * 1000,
    stopAtSeatsBooked: opts.seats,
    // Let left-to-lapse holds expire so their broadcast delay is measured too.
    lingerMs: (opts.holdTtl + 3) * 1000,
  });
  const delivery = await watchers.finish();
  ctx.acked.push(...stats.acked);
  details.run = buyerSummary(stats, seconds, queries);
  details.delivery = delivery.summary();

  const { raw: cas, viaKnex } = await casBaselineFor(ctx, { concurrency: opts.buyers, rows: opts.seats, durationMs: Math.min(10, opts.duration) * 1000 });
  if (cas) details.casBaseline = cas;
  if (viaKnex) details.casBaselineKnex = viaKnex;
  let bare: Awaited<ReturnType<typeof bareBroadcastBaseline>> | undefined;
  if (opts.baseline && opts.watchers > 0) {
    bare = await bareBroadcastBaseline({ watchers: opts.watchers, ratePerS: Math.max(1, Math.min(200, stats.holds / seconds)), durationMs: Math.min(5, opts.duration) * 1000, connectConcurrency: opts.connectConcurrency, clientProcs: opts.clientProcs });
    details.bareBroadcast = bare;
  }
  casFigures(figures, '', stats, seconds, queries, cas, { holdAckP99Ms: 300 });
  refusalFigures(figures, '', stats);
  figures.push(figure('bookings/s', stats.bookings / seconds, '1/s'));
  figures.push(figure('booking ack p50', stats.bookAck.summary().p50, 'ms'));
  figures.push(figure('booking ack p99', stats.bookAck.summary().p99, 'ms', undefined, { value: ['<=', 500] }));
  figures.push(figure('hold decision p99 (first send -> decided, incl. Retry-After waits)', stats.holdDecision.summary().p99, 'ms'));
  figures.push(figure('booking decision p99 (first send -> decided, incl. Retry-After waits)', stats.bookDecision.summary().p99, 'ms'));
  sellOutFigures(figures, stats, seconds, ev.seats.length);
  // Commit times are only known for in-process nodes; with --url there is nothing to measure from.
  if (delivery.count) {
    figures.push(figure(`broadcast delivery p50 (commit -> ${opts.watchers} ${opts.watcherRole} watchers)`, delivery.summary().p50, 'ms', bare?.latency.p50));
    figures.push(figure('broadcast delivery p99', delivery.summary().p99, 'ms', bare?.latency.p99, { ratio: ['<=', 1.5] }));
  }
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
    const plan: BuyerPlan = { seatsPerHold: opts.seatsPerHold, bookProbability: opts.bookProbability, expireProbability: opts.expireProbability, thinkMs: opts.thinkMs, oneBooking: false, maxAttempts: Number.MAX_SAFE_INTEGER, blind: true };
    const { stats, seconds, queries } = await runBuyers(ctx, ev, users, plan, { strategy: 'random', durationMs: opts.duration * 1000, lingerMs: 0, label: `[${c}] ` });
    ctx.acked.push(...stats.acked);
    const { raw: cas, viaKnex } = await casBaselineFor(ctx, { concurrency: c, rows: opts.seats, durationMs: Math.min(10, opts.duration) * 1000 });
    phases.push({ contenders: c, ...buyerSummary(stats, seconds, queries), casBaseline: cas, casBaselineKnex: viaKnex });
    // Issue 17: group commit should beat one transaction per attempt on MariaDB at 256 contenders (>= 1.0x);
    // everywhere else (8 contenders, SQLite) >= 0.5x.
    casFigures(figures, `[${c}] `, stats, seconds, queries, cas, { attemptsRatio: c >= 256 && cluster.databaseUrl.startsWith('mysql') ? 1 : 0.5 });
    refusalFigures(figures, `[${c}] `, stats);
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
  const connectStart = now();
  const watchers = await startWatchers(ctx, ev.eventId, Array.from({ length: opts.watchers }, () => null));
  details.connectSeconds = round((now() - connectStart) / 1000);
  const socket = connect(cluster.urls[0]!, ev.eventId, holder!.token);
  await firstSnapshot(socket);
  const holdAck = new Latency();
  let changes = 0;
  const progress = new Progress((s) => `${s.toFixed(0)}s ${opts.watchers} watchers, changes ${changes}, hold ack p99 ${holdAck.summary().p99}ms`, opts.progress).start();
  // Each tick holds one seat and releases the previous tick's hold: two committed changes per tick.
  const interval = 1000 / opts.rate;
  const t0 = now();
  const end = t0 + opts.duration * 1000;
  let previous: string | undefined;
  let i = 0;
  while (now() < end) {
    const tick = now();
    const seatId = ev.seats[i++ % ev.seats.length]!.id;
    const t1 = now();
    const ack = (await send(socket, 'seat:hold', { seatIds: [seatId] })) as Ack<HoldView>;
    holdAck.recordMs(now() - t1);
    if (ack.ok) changes++;
    if (previous && (await send(socket, 'seat:release', { holdToken: previous })).ok) changes++;
    previous = ack.ok ? ack.data.holdToken : undefined;
    await sleep(Math.max(0, interval - (now() - tick)));
  }
  if (previous && (await send(socket, 'seat:release', { holdToken: previous })).ok) changes++;
  const seconds = (now() - t0) / 1000;
  await sleep(1000);
  progress.stop();
  socket.close();
  const delivery = await watchers.finish();
  const d = delivery.summary();
  details.run = { changes, seconds: round(seconds), watchers: opts.watchers, deliveries: d.count, expectedDeliveries: changes * opts.watchers, delivery: d, holdAck: holdAck.summary() };
  let bare: Awaited<ReturnType<typeof bareBroadcastBaseline>> | undefined;
  if (opts.baseline) {
    bare = await bareBroadcastBaseline({ watchers: opts.watchers, ratePerS: changes / seconds, durationMs: Math.min(opts.duration, 15) * 1000, connectConcurrency: opts.connectConcurrency, clientProcs: opts.clientProcs });
    details.bareBroadcast = bare;
  }
  figures.push(figure('watchers', opts.watchers, 'sockets'));
  figures.push(figure('client processes (watchers)', Number(details.watcherProcesses ?? 0), 'processes', bare?.processes));
  figures.push(figure('seat changes/s', changes / seconds, '1/s', bare ? bare.changes / Math.min(opts.duration, 15) : undefined));
  figures.push(figure('deliveries (received / expected)', d.count / Math.max(1, changes * opts.watchers), 'ratio', bare ? bare.delivered / Math.max(1, bare.changes * bare.watchers) : undefined));
  if (d.count) {
    figures.push(figure('delivery p50 (commit -> watcher)', d.p50, 'ms', bare?.latency.p50));
    figures.push(figure('delivery p99 (commit -> watcher)', d.p99, 'ms', bare?.latency.p99, { ratio: ['<=', 1.5] }));
    figures.push(figure('delivery max', d.max, 'ms', bare?.latency.max));
  }
}

/** Bytes of a compact snapshot on the wire: its binary attachments plus the JSON around their placeholders. */
function compactBytes(c: CompactSeatsSnapshot): number {
  const placeholder = (num: number) => ({ _placeholder: true, num });
  const binary = [c.status, c.versions, c.expiresAt].reduce((n, f) => n + f.byteLength, 0);
  return binary + JSON.stringify({ ...c, status: placeholder(0), versions: placeholder(1), expiresAt: placeholder(2) }).length;
}

async function joinStorm(ctx: Ctx): Promise<void> {
  const { opts, cluster, figures, details } = ctx;
  const ev = await cluster.seedEvent({ ...layout(opts.seats), holdTtlSeconds: 600, maxSeatsPerOrder: 10, maxSeatsPerUser: 10 });
  ctx.eventIds.push(ev.eventId);
  const users = await cluster.createUsers(opts.clients);
  const run = async (url: string, label: string, withToken: boolean) => {
    const tokens = users.map((u) => (withToken ? u.token : null));
    const job = {
      kind: 'join' as const,
      url,
      eventId: ev.eventId,
      tokens,
      windowMs: opts.joinWindowMs,
      timeoutMs: 60_000,
      format: opts.format,
      // The bare server has no layout endpoint: its clients take the order from the cluster, as a CDN would serve it.
      layoutUrl: cluster.urls[0]!,
    };
    // Client i joins at i/n of the window wherever it runs: each process spaces its interleaved share the same way.
    const group = new ClientGroup(splitJob(job, clientProcessCount(tokens.length, opts.clientProcs)));
    try {
      await group.all('ready');
      const progress = new Progress((s) => `${s.toFixed(1)}s ${label}: ${group.progress.counters.done ?? 0}/${opts.clients} snapshots, p99 ${group.progress.p99 ?? 0}ms`, opts.progress).start(250);
      group.send({ type: 'start' });
      const done = await group.all<{ latency: string; failures: number; seconds: number }>('done');
      progress.stop();
      const hist = new Latency();
      for (const d of done) hist.merge(d.latency);
      return { latency: hist.summary(), failures: done.reduce((n, d) => n + d.failures, 0), seconds: round(Math.max(...done.map((d) => d.seconds))), processes: group.members.length };
    } finally {
      await group.stop();
    }
  };
  const q0 = cluster.queryCount();
  const evently = await run(cluster.urls[0]!, 'evently', true);
  details.run = { ...evently, dbQueries: cluster.queryCount() - q0 };
  let bare: typeof evently | undefined;
  if (opts.baseline) {
    // A bare Socket.IO server that answers each connection with an already built snapshot of the same form and size.
    const snapshot = await cluster.services.seats.snapshot(ev.eventId);
    details.jsonSnapshotBytes = JSON.stringify(snapshot).length;
    const compact = encodeSnapshot(snapshot, (await cluster.services.layouts.forEvent(ev.eventId)).order);
    details.compactSnapshotBytes = compactBytes(compact);
    details.snapshotBytes = opts.format === 'compact' ? details.compactSnapshotBytes : details.jsonSnapshotBytes;
    const http = createServer();
    const io = new Server(http, { transports: ['websocket'], serveClient: false });
    io.of(/^\/events\/\d+$/).on('connection', (s) => (opts.format === 'compact' ? s.emit('seats:snapshot:compact', compact) : s.emit('seats:snapshot', snapshot)));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    await sleep(500);
    bare = await run(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, 'bare', false);
    io.close();
    details.bare = bare;
  }
  figures.push(figure('clients', opts.clients, 'sockets'));
  figures.push(figure('seats in snapshot', opts.seats, 'seats'));
  if (details.snapshotBytes !== undefined) {
    figures.push(figure(`snapshot size (${opts.format})`, Number(details.snapshotBytes), 'bytes', undefined, opts.format === 'compact' ? { value: ['<=', 48 * 1024] } : undefined));
  }
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
  const watchers = await startWatchers(ctx, ev.eventId, staff.map((s) => (opts.watcherRole === 'anonymous' ? null : s.token)));
  const plan: BuyerPlan = { seatsPerHold: opts.seatsPerHold, bookProbability: opts.bookProbability, expireProbability: opts.expireProbability, thinkMs: opts.thinkMs, oneBooking: false, maxAttempts: Number.MAX_SAFE_INTEGER };
  // Memory of this process (the server nodes; clients live in their own thread's heap) sampled during the run.
  const samples: { t: number; heapMiB: number; rssMiB: number }[] = [];
  let t0 = now();
  const sample = () => {
    gc();
    const m = process.memoryUsage();
    samples.push({ t: round((now() - t0) / 1000, 1), heapMiB: round(m.heapUsed / 2 ** 20), rssMiB: round(m.rss / 2 ** 20) });
  };
  let sampler: NodeJS.Timeout | undefined;
  const { stats, seconds, queries } = await runBuyers(ctx, ev, users, plan, {
    strategy: opts.strategy,
    durationMs: opts.duration * 1000,
    lingerMs: 0,
    onStart: () => {
      t0 = now();
      sample();
      sampler = setInterval(sample, Math.max(1000, (opts.duration * 1000) / 20));
    },
  });
  clearInterval(sampler);
  sample();
  const delivery = await watchers.finish();
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
  refusalFigures(figures, '', stats);
  if (delivery.count) figures.push(figure('broadcast delivery p99', delivery.summary().p99, 'ms'));
  if (stats.expiryDelivery.count) figures.push(figure('expired hold -> broadcast p99', stats.expiryDelivery.summary().p99, 'ms', undefined, { value: ['<=', 1000] }));
  figures.push(figure('server heap growth, 2nd half (main thread: the nodes)', slope, 'MiB/min'));
  if (queries > 0) figures.push(figure('db round trips per hold attempt', queries / Math.max(1, stats.holdAttempts), 'queries'));
  await memoryComparison(ctx, ev.eventId);
}

const RUNNERS: Record<ScenarioName, (ctx: Ctx) => Promise<void>> = {
  'flash-sale': flashSale,
  'hot-seat': hotSeat,
  'fan-out': fanOut,
  'join-storm': joinStorm,
  soak,
  'login-storm': loginStorm,
  queue: queueScenario,
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
    redisCluster: opts.redisCluster,
    poolMax: opts.pool,
    env: opts.env,
    logLevel: opts.logLevel,
    nodeProcs: opts.nodeProcs,
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

/** Seat batches of in-process nodes (the metrics the nodes keep): count, mean commands, mean and max-bucket time. */
async function seatBatchStats(nodes: { metrics: { seatBatchSize: { get(): Promise<{ values: { value: number; metricName?: string }[] }> }; seatBatchDuration: { get(): Promise<{ values: { value: number; metricName?: string; labels: Record<string, unknown> }[] }> } } }[]) {
  let count = 0;
  let commands = 0;
  let seconds = 0;
  const le = new Map<string, number>();
  for (const n of nodes) {
    for (const v of (await n.metrics.seatBatchSize.get()).values) {
      if (v.metricName?.endsWith('_count')) count += v.value;
      if (v.metricName?.endsWith('_sum')) commands += v.value;
    }
    for (const v of (await n.metrics.seatBatchDuration.get()).values) {
      if (v.metricName?.endsWith('_sum')) seconds += v.value;
      if (v.metricName?.endsWith('_bucket')) le.set(String(v.labels.le), (le.get(String(v.labels.le)) ?? 0) + v.value);
    }
  }
  return { batches: count, commandsPerBatch: count ? Math.round((commands / count) * 10) / 10 : 0, meanMs: count ? Math.round((seconds / count) * 1e4) / 10 : 0, cumulativeByLeSeconds: Object.fromEntries(le) };
}
