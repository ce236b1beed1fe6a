/**
 * What the load scenarios share: the venue shape, the run context, watchers spread over client processes, buyers,
 * and the figures every sale reports (refusals, sell-out, the compare-and-set baselines).
 */
import { casBaseline, sqliteCasBaseline, sqliteKnexCasBaseline, type CasResult } from './baselines-cas';
import { groupTxBaseline, type GroupTxResult } from './baselines-group-tx';
import { groupSocketBaseline, type GroupSocketCut, type GroupSocketResult } from './baselines-group-socket';
import { holdTxBaseline, type HoldTxResult } from './baselines-hold-tx';
import type { BuyerPlan } from './buyer';
import { BuyerStats, COMMAND_KINDS } from './buyer-stats';
import type { Strategy } from './clients';
import { deserializeStats, type SerializedStats } from './client-worker';
import { ClientGroup, ClientThread, clientProcessCount, splitJob } from './workers';
import { Cluster, type LoadUser, type SeededEvent } from './harness';
import type { Options } from './options';
import { figure, type Figure } from './report';
import { Latency, Progress, round, sleep, type LatencySummary } from './stats';
import { readNodes, seatBatchStats, serverCommandStats } from './node-metrics';
import { expectedDeliveries, mergeDelivery, mergeDeliveryByNode, type WatchersDone } from './watcher-results';

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
export async function startWatchers(ctx: Ctx, eventId: number, tokens: (string | null)[]): Promise<{ finish(): Promise<Latency> }> {
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
      await ctx.cluster.sync();
      group.send({ type: 'finish', commitTimes: [...ctx.cluster.commitTimes] });
      try {
        const parts = await group.all<WatchersDone>('done');
        ctx.details.watcherBatchesPerProcess = parts.map((p) => p.batches);
        // Seat versions broadcast at all (received by some watcher): the base for "every watcher got every batch".
        ctx.details.broadcastVersions = new Set(parts.flatMap((p) => p.versions ?? [])).size;
        ctx.details.expectedDeliveries = expectedDeliveries(parts);
        ctx.details.deliveryByNode = mergeDeliveryByNode(parts).map((h) => h.summary());
        return mergeDelivery(parts);
      } finally {
        await group.stop();
      }
    },
  };
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
    nodesOnMainThread: ctx.cluster.nodes.length > 0,
  });
  try {
    await thread.next('connected');
    const progress = new Progress((s) => {
      const c = thread.progress.counters;
      return `${s.toFixed(0)}s ${o.label ?? ''}holds ${c.holds ?? 0}/${c.holdAttempts ?? 0} (${((c.holdAttempts ?? 0) / Math.max(s, 0.001)).toFixed(0)}/s) conflicts ${c.conflicts ?? 0} busy ${c.busy ?? 0} bookings ${c.bookings ?? 0} (${c.seatsBooked ?? 0} seats) releases ${c.releases ?? 0} lapse ${c.letExpire ?? 0} p99 ${thread.progress.p99 ?? 0}ms`;
    }, ctx.opts.progress).start();
    const status0 = await ctx.cluster.dbStatus();
    await ctx.cluster.sync();
    const q0 = ctx.cluster.queryCount();
    const nodes0 = await readNodes(ctx.cluster.observed());
    thread.send({ type: 'start' });
    o.onStart?.();
    await thread.next('ran');
    await ctx.cluster.sync();
    const queries = ctx.cluster.queryCount() - q0;
    const status1 = await ctx.cluster.dbStatus();
    // Global MariaDB counters over the buyers' phase (row-lock waits explain slow statements).
    ctx.details[`mariadbStatus${o.label ? ` ${o.label.trim()}` : ''}`] = Object.fromEntries(Object.keys(status1).map((k) => [k, status1[k]! - (status0[k] ?? 0)]));
    // Group commit and command latency, seen from the nodes (all of them, this phase only).
    const nodes1 = await readNodes(ctx.cluster.observed());
    ctx.details[`seatBatches${o.label ? ` ${o.label.trim()}` : ''}`] = seatBatchStats(nodes1, nodes0);
    ctx.details[`serverCommands${o.label ? ` ${o.label.trim()}` : ''}`] = serverCommandStats(nodes1, nodes0);
    const done = await thread.next<{ seconds: number; stats: SerializedStats }>('done');
    progress.stop();
    return { stats: deserializeStats(done.stats), seconds: done.seconds, queries };
  } finally {
    await thread.stop();
  }
}

export function buyerSummary(stats: BuyerStats, seconds: number, queries: number): Record<string, unknown> {
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
    // seats:changed batches all buyers received in the buying phase, and the seats in them.
    changeBatches: stats.changeBatches,
    changedSeats: stats.changedSeats,
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
export async function casBaselineFor(ctx: Ctx, o: { concurrency: number; rows: number; durationMs: number }): Promise<{ raw?: CasResult; viaKnex?: CasResult }> {
  const { opts, cluster } = ctx;
  if (!opts.baseline) return {};
  if (cluster.databaseUrl.startsWith('mysql')) return { raw: await casBaseline(cluster.databaseUrl, { ...o, connections: cluster.opts.poolMax * Math.max(1, cluster.nodeCount) }) };
  if (cluster.databaseUrl.startsWith('sqlite')) {
    const raw = await sqliteCasBaseline(o);
    const viaKnex = await sqliteKnexCasBaseline({ ...o, durationMs: Math.min(5000, o.durationMs) });
    return { raw, viaKnex };
  }
  return {};
}

/** The raw hold-transaction baseline (MySQL only: it is what a transactional hold costs there), with the raw compare-and-set's pool. */
export async function holdTxBaselineFor(ctx: Ctx, o: { concurrency: number; rows: number; durationMs: number }): Promise<HoldTxResult | undefined> {
  const { opts, cluster } = ctx;
  if (!opts.baseline || !cluster.databaseUrl.startsWith('mysql')) return undefined;
  return holdTxBaseline(cluster.databaseUrl, { ...o, connections: cluster.opts.poolMax * Math.max(1, cluster.nodeCount) });
}

/**
 * The raw group-commit baseline (MySQL only, load/baselines-group-tx.ts) with one batch in flight, as Evently's
 * lane: the issue's design with nothing of Evently around it.
 */
export async function groupTxBaselineFor(ctx: Ctx, o: { concurrency: number; rows: number; durationMs: number }): Promise<GroupTxResult | undefined> {
  const { opts, cluster } = ctx;
  if (!opts.baseline || !cluster.databaseUrl.startsWith('mysql')) return undefined;
  return groupTxBaseline(cluster.databaseUrl, o);
}

/**
 * The raw group commit behind a bare Socket.IO server (MySQL only, load/baselines-group-socket.ts), both ways of
 * cutting a batch: the bound the contenders' socket round trips and the batches together set here.
 */
export async function groupSocketBaselinesFor(ctx: Ctx, o: { concurrency: number; rows: number; durationMs: number }): Promise<GroupSocketResult[]> {
  const { opts, cluster } = ctx;
  if (!opts.baseline || !cluster.databaseUrl.startsWith('mysql')) return [];
  const results: GroupSocketResult[] = [];
  for (const cut of ['at once', 'all contenders'] as GroupSocketCut[]) {
    results.push(await groupSocketBaseline(cluster.databaseUrl, { ...o, cut, connectConcurrency: opts.connectConcurrency }));
  }
  return results;
}

/**
 * Attempts use decided hold commands only (BUSY/RATE_LIMITED refusals are counted apart, see refusalFigures).
 * The hold ack figures' baseline is `targets.ackBaseline` when given (flash sale: the bare ack-echo server's
 * latency, load/ack-echo.ts), else the raw compare-and-set's.
 */
export function casFigures(
  f: Figure[],
  label: string,
  stats: BuyerStats,
  seconds: number,
  queries: number,
  cas: CasResult | undefined,
  targets: { holdAckP99Ms?: number; attemptsRatio?: number; ackBaseline?: LatencySummary } = {},
): void {
  const s = stats.holdAck.summary();
  const ackBase = targets.ackBaseline ?? cas?.latency;
  f.push(figure(`${label}holds/s (successful)`, stats.holds / seconds, '1/s', cas?.successesPerS, { ratio: ['>=', 0.5] }));
  f.push(figure(`${label}hold attempts/s`, stats.holdAttempts / seconds, '1/s', cas?.attemptsPerS, { ratio: ['>=', targets.attemptsRatio ?? 0.5] }));
  f.push(figure(`${label}conflicts/s`, stats.conflicts / seconds, '1/s', cas?.conflictsPerS));
  f.push(figure(`${label}hold ack p50`, s.p50, 'ms', ackBase?.p50));
  f.push(figure(`${label}hold ack p95`, s.p95, 'ms', ackBase?.p95));
  f.push(figure(`${label}hold ack p99`, s.p99, 'ms', ackBase?.p99, targets.holdAckP99Ms ? { value: ['<=', targets.holdAckP99Ms] } : undefined));
  if (queries > 0 && stats.holdAttempts > 0) {
    f.push(figure(`${label}db round trips per hold attempt (all queries / attempts)`, queries / stats.holdAttempts, 'queries', cas?.roundTripsPerAttempt));
  }
}

/**
 * BUSY and RATE_LIMITED answers, per kind of command (holds, bookings) and as a share of that kind's commands
 * sent, then BUSY over every command the buyers sent (holds, bookings, releases) against the issue's <= 1%.
 */
export function refusalFigures(f: Figure[], label: string, stats: BuyerStats): void {
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
export function sellOutFigures(f: Figure[], stats: BuyerStats, seconds: number, totalSeats: number): void {
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
