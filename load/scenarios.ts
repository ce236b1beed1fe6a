/** The scenario runner: one scenario end to end, by name (`npm run load -- <scenario>`). */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { audit, type AuditResult } from './audit';
import { Cluster } from './harness';
import type { Options, ScenarioName } from './options';
import { machine, type Report } from './report';
import { loginStorm } from './login-storm';
import { round, wallNow } from './stats';
import type { Ctx } from './scenario-kit';
import { fanOut, joinStorm } from './scenarios-fan-out';
import { flashSale, hotSeat, soak } from './scenarios-sale';
import { queueScenario } from './queue-scenario';

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
    nodeProcs: opts.nodeProcs,
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
  // Ctrl-C (or SIGTERM) mid-run would leave the run's database, and a Redis Cluster it started, behind: close the
  // cluster, which drops them, then exit 130. A second signal exits at once.
  let signalled = false;
  const interrupted = (signal: NodeJS.Signals) => {
    signalled = true;
    process.stderr.write(`\n${signal}: stopping the nodes and dropping the run's database (${signal} again to exit now)\n`);
    process.once(signal, () => process.exit(130));
    void cluster.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    await cluster.start();
    if (cluster.ownDatabase) process.stderr.write(`${scenario}: database ${cluster.ownDatabase} (dropped when the run ends)\n`);
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
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await cluster.close();
    // Closing the cluster under a running scenario makes it end early, failed or with a failed audit; that must not
    // reach the caller as the run's outcome (exit 1) while the signal's close is still dropping the database.
    // close() is shared, so by here the drop is done: the interrupted run exits as the signal says.
    if (signalled) process.exit(130);
  }
  return {
    scenario,
    command,
    date,
    machine: machine(),
    options: { ...opts, nodes: opts.url ? 'external' : cluster.nodeCount },
    durationS: round((wallNow() - started) / 1000),
    figures: ctx.figures,
    details: ctx.details,
    audit: auditResult,
  };
}
