/** Sale scenarios: a flash sale (many buyers, one event) and a hot seat (everyone wants the same seats), and the soak. */
import { bareAckBaseline, type AckEchoResult } from './ack-echo';
import { bareBroadcastBaseline } from './baselines';
import { COMMAND_KINDS, type BuyerStats } from './buyer-stats';
import type { BuyerPlan } from './buyer';
import { lapseFigures } from './lapse';
import { rushAckFigures } from './sale-timeline';
import { figure } from './report';
import { gc, now, round, sleep } from './stats';
import { memoryComparison } from './scenarios-fan-out';
import { buyerSummary, casBaselineFor, casFigures, groupSocketBaselinesFor, groupTxBaselineFor, holdTxBaselineFor, layout, refusalFigures, runBuyers, sellOutFigures, startWatchers, type Ctx } from './scenario-kit';

export async function flashSale(ctx: Ctx): Promise<void> {
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
  const batchesPerBuyerS = batchesPerClientS(stats, users.length, seconds);
  const bareAck = opts.baseline ? await ackEchoLike(ctx, stats, opts.buyers, batchesPerBuyerS, opts.clientProcs) : undefined;
  if (bareAck) details.bareAck = bareAck;
  // Hold ack baseline: the bare ack-echo (what the machine gives this many closed-loop clients); target unchanged.
  casFigures(figures, '', stats, seconds, queries, cas, { holdAckP99Ms: 300, ackBaseline: bareAck?.latency });
  // Where the hold ack tail comes from: the opening second (every buyer's first hold at once) or the whole sale.
  const buyersConnected = Math.max(1, users.length - stats.connectFailures);
  // The bare ack-echo again, at the broadcast rate of the sale's busiest second rather than the run's average (in
  // a rush buyers receive several times the average): the machine's own bound for these clients at the rush.
  const rushRate = stats.timeline.peakBatchesPerBuyer(buyersConnected);
  const bareAckRush = opts.baseline && rushRate > batchesPerBuyerS ? await ackEchoLike(ctx, stats, opts.buyers, rushRate, opts.clientProcs) : undefined;
  // Beside the machine and the buyers' thread in the rush: the same readings over the echo at the rush rate.
  stats.timeline.figures(figures, buyersConnected, { busyCores: bareAckRush?.machineBusyCores, threadBusyPct: bareAckRush?.clientThreadBusyPct });
  details.saleSeconds = stats.timeline.seconds(buyersConnected);
  if (bareAckRush) {
    details.bareAckRush = bareAckRush;
    rushAckFigures(figures, { hold: stats.holdAck, booking: stats.bookAck }, bareAckRush, rushRate);
  }
  refusalFigures(figures, '', stats);
  const answered = COMMAND_KINDS.reduce((n, k) => n + stats.commands[k].sent - stats.commands[k].timeouts, 0);
  figures.push(figure('command acks/s (every kind, BUSY included)', answered / seconds, '1/s', bareAck?.acksPerS));
  // The broadcast load the bare ack-echo reproduced, beside what its clients received: shows in the table whether it kept up.
  figures.push(figure('seats:changed batches received per buyer per second', batchesPerBuyerS, '1/s', bareAck?.batchesPerClientPerS));
  figures.push(figure('bookings/s', stats.bookings / seconds, '1/s'));
  figures.push(figure('booking ack p50', stats.bookAck.summary().p50, 'ms'));
  figures.push(figure('booking ack p99', stats.bookAck.summary().p99, 'ms', undefined, { value: ['<=', 500] }));
  figures.push(figure('hold decision p99 (first send -> decided, incl. Retry-After waits)', stats.holdDecision.summary().p99, 'ms'));
  figures.push(figure('booking decision p99 (first send -> decided, incl. Retry-After waits)', stats.bookDecision.summary().p99, 'ms'));
  sellOutFigures(figures, stats, seconds, ev.seats.length);
  lapseFigures(figures, stats, seconds, ev.seats.length);
  // Commit times are only known for in-process nodes; with --url there is nothing to measure from.
  if (delivery.count) {
    figures.push(figure(`broadcast delivery p50 (commit -> ${opts.watchers} ${opts.watcherRole} watchers)`, delivery.summary().p50, 'ms', bare?.latency.p50));
    figures.push(figure('broadcast delivery p99', delivery.summary().p99, 'ms', bare?.latency.p99, { ratio: ['<=', 1.5] }));
  }
  if (stats.expiryDelivery.count) figures.push(figure('expired hold -> broadcast p99', stats.expiryDelivery.summary().p99, 'ms', undefined, { value: ['<=', 1000] }));
}

/**
 * The broadcast load the clients had: batches one client received per second of the run (each gets every batch
 * of the event). Clients that never connected received none and are not counted.
 */
function batchesPerClientS(stats: BuyerStats, clients: number, seconds: number): number {
  return stats.changeBatches / Math.max(1, clients - stats.connectFailures) / seconds;
}

/**
 * The bare Socket.IO ack-echo (load/ack-echo.ts) under the run's conditions: as many closed-loop clients, the
 * broadcasts they received (batches per client per second, of the run's mean size), the same venue and hold size.
 */
function ackEchoLike(ctx: Ctx, stats: BuyerStats, clients: number, batchesPerS: number, clientProcs?: number): Promise<AckEchoResult> {
  const { opts } = ctx;
  return bareAckBaseline({
    clients,
    batchesPerS,
    seatsPerBatch: stats.changeBatches ? stats.changedSeats / stats.changeBatches : 1,
    seats: opts.seats,
    seatsPerHold: opts.seatsPerHold,
    durationMs: Math.min(10, opts.duration) * 1000,
    connectConcurrency: opts.connectConcurrency,
    format: opts.format,
    clientProcs,
    holdTtlS: opts.holdTtl,
  });
}

export async function hotSeat(ctx: Ctx): Promise<void> {
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
    const baseline = { concurrency: c, rows: opts.seats, durationMs: Math.min(10, opts.duration) * 1000 };
    const { raw: cas, viaKnex } = await casBaselineFor(ctx, baseline);
    // The least a hold must do, one transaction per command (load/baselines-hold-tx.ts): what the raw
    // compare-and-set's ratio targets mean for a server that records holds.
    const holdTx = await holdTxBaselineFor(ctx, baseline);
    // The design alone (load/baselines-group-tx.ts): the same commands group-committed on bare mysql2, no
    // sockets: how far the batches themselves could take these contenders here.
    const groupTx = await groupTxBaselineFor(ctx, baseline);
    // The same batches behind a bare Socket.IO server, these contenders' own transport (load/baselines-group-socket.ts):
    // what group commit reaches here once every command crosses a socket, with no server code around it.
    const groupSocket = await groupSocketBaselinesFor(ctx, baseline);
    // The socket bound: the same contenders in closed loops against a bare Socket.IO server that only acks (under
    // the broadcasts they received here). Every attempt is one command or two (a won hold is released), so the
    // bare acks/s is the most commands these clients could have had answered on this machine, whatever the store.
    const bareAck = opts.baseline ? await ackEchoLike(ctx, stats, c, batchesPerClientS(stats, users.length, seconds)) : undefined;
    phases.push({ contenders: c, ...buyerSummary(stats, seconds, queries), casBaseline: cas, casBaselineKnex: viaKnex, holdTxBaseline: holdTx, groupTxBaseline: groupTx, groupSocketBaselines: groupSocket, bareAck });
    // Issue 17: group commit should beat one transaction per attempt on MariaDB at 256 contenders (>= 1.0x);
    // everywhere else (8 contenders, SQLite) >= 0.5x.
    casFigures(figures, `[${c}] `, stats, seconds, queries, cas, { attemptsRatio: c >= 256 && cluster.databaseUrl.startsWith('mysql') ? 1 : 0.5 });
    const answered = COMMAND_KINDS.reduce((n, k) => n + stats.commands[k].sent - stats.commands[k].timeouts, 0);
    figures.push(figure(`[${c}] command acks/s (hold and release; baseline: bare Socket.IO ack-echo)`, answered / seconds, '1/s', bareAck?.acksPerS));
    if (holdTx) {
      figures.push(figure(`[${c}] hold attempts/s (baseline: raw hold transactions, one per command, no server)`, stats.holdAttempts / seconds, '1/s', holdTx.attemptsPerS));
      if (cas) figures.push(figure(`[${c}] raw hold transactions: attempts/s (baseline: raw compare-and-set)`, holdTx.attemptsPerS, '1/s', cas.attemptsPerS));
    }
    if (groupTx) {
      figures.push(figure(`[${c}] hold attempts/s (baseline: raw group commit, the same batches with no server)`, stats.holdAttempts / seconds, '1/s', groupTx.attemptsPerS));
      if (cas) figures.push(figure(`[${c}] raw group commit: attempts/s (baseline: raw compare-and-set)`, groupTx.attemptsPerS, '1/s', cas.attemptsPerS));
      figures.push(figure(`[${c}] raw group commit: commands per batch`, groupTx.commandsPerBatch, 'commands'));
    }
    for (const g of groupSocket) {
      const name = `[${c}] raw group commit behind a bare Socket.IO server, cut ${g.cut}`;
      if (cas) figures.push(figure(`${name}: attempts/s (baseline: raw compare-and-set)`, g.attemptsPerS, '1/s', cas.attemptsPerS));
      figures.push(figure(`${name}: commands per batch`, g.commandsPerBatch, 'commands'));
    }
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

export async function soak(ctx: Ctx): Promise<void> {
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
