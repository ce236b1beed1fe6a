import { testDialects, describeEach, mysqlDialects } from '../helpers/dialects';
import { optionsSchema, resolveOptions } from '../../load/options';
import { runScenario } from '../../load/scenarios';
import { HelpRequested, parseArgs, UsageError } from '../../load/cli';
import { spawnSync } from 'node:child_process';
import { retryAfterSeconds, retryDelayMs, retryLaterCode } from '../../load/retry';
import { sqliteCasBaseline, sqliteKnexCasBaseline } from '../../load/baselines-cas';
import { holdTxBaseline } from '../../load/baselines-hold-tx';
import mysql from 'mysql2/promise';
import { createMysqlDatabase } from '../helpers/mysql';
import { clientProcessCount, splitJob } from '../../load/workers';

/**
 * Keeps the load generator working: a tiny flash sale end to end (cluster, buyers, watchers, baselines,
 * audit) on each dialect. Numbers are far too small to mean anything; the shape of the report is the point.
 */
describeEach(testDialects(), 'load generator smoke run (%s)', (dialect) => {
  it('sells a small event, audits PASS and reports every figure', async () => {
    const { scenario, raw } = parseArgs(['flash-sale', '--buyers', '12', '--seats', '10', '--watchers=2', '--duration', '2', '--hold-ttl', '5', '--expire-probability', '0']);
    const opts = resolveOptions(scenario, optionsSchema.parse({ ...raw, dialect, progress: 'false', write: 'false', logLevel: 'silent', connectConcurrency: '20' }));
    expect(opts.buyers).toBe(12);
    expect(opts.nodes).toBe(2);

    const report = await runScenario(scenario, opts, 'smoke');

    expect(report.audit?.pass).toBe(true);
    expect(report.audit?.checks.length).toBeGreaterThanOrEqual(6);
    const names = report.figures.map((f) => f.name);
    for (const name of [
      'holds/s (successful)',
      'hold attempts/s',
      'conflicts/s',
      'hold ack p99',
      'bookings/s',
      'broadcast delivery p99',
      // Refusals, apart from attempts (issue 17).
      'hold commands sent',
      'hold BUSY answers',
      'hold BUSY share of hold commands',
      'hold RATE_LIMITED answers',
      'hold RATE_LIMITED share of hold commands',
      'booking commands sent',
      'booking BUSY answers',
      'booking BUSY share of booking commands',
      'booking RATE_LIMITED answers',
      'booking RATE_LIMITED share of booking commands',
      'BUSY share of commands',
      // Sell-out.
      'seats sold',
      'time to 95% sold (first hold -> 95% of seats booked)',
      'booked seats/s',
      'booking ack p99',
      'hold decision p99 (first send -> decided, incl. Retry-After waits)',
      'booking decision p99 (first send -> decided, incl. Retry-After waits)',
    ]) {
      expect(names).toContain(name);
    }
    // Sold out, or the seats sold at the deadline: exactly one of the two.
    expect(names.filter((n) => n === 'time to sell out' || n === 'seats sold at the deadline')).toHaveLength(1);
    const byName = (n: string) => report.figures.find((f) => f.name === n)!;
    expect(byName('hold ack p99').target).toBe('<= 300 ms');
    expect(byName('booking ack p99').target).toBe('<= 500 ms');
    expect(byName('BUSY share of commands').target).toBe('<= 1 %');
    // Attempts are decided commands only: never more than were sent, refusals excluded.
    const cmds = (report.details.run as { commands: Record<'hold' | 'booking', { sent: number; busy: number; rateLimited: number; timeouts: number }> }).commands;
    const holdAttempts = (report.details.run as { holdAttempts: number }).holdAttempts;
    expect(holdAttempts).toBe(cmds.hold.sent - cmds.hold.busy - cmds.hold.rateLimited - cmds.hold.timeouts);
    expect(byName('hold commands sent').value).toBe(cmds.hold.sent);
    const run = report.details.run as { holds: number; bookings: number; seatsBooked: number; holdAck: { count: number } };
    expect(run.holds).toBeGreaterThan(0);
    expect(run.bookings).toBeGreaterThan(0);
    expect(run.holdAck.count).toBeGreaterThan(0);
    // Every acknowledged booking was checked against the database.
    expect(report.audit?.checks.find((c) => c.name.startsWith('every acknowledged booking'))?.detail).toContain(`${run.bookings} acknowledged`);
    expect((report.details.bareBroadcast as { watchers: number }).watchers).toBe(2);
    // The raw compare-and-set baseline ran on the run's own engine (mysql2 on MariaDB, better-sqlite3 on SQLite).
    expect(byName('hold attempts/s').baseline).toBeGreaterThan(0);
    if (dialect === 'sqlite') expect((report.details.casBaselineKnex as { attempts: number }).attempts).toBeGreaterThan(0);
    if (dialect === 'mysql') {
      // Round trips are counted and the raw compare-and-set baseline ran against the same MariaDB.
      const rt = report.figures.find((f) => f.name.startsWith('db round trips per hold'));
      expect(rt?.value).toBeGreaterThan(0); // per batch, so below the raw 3 once commands group
      expect(rt?.baseline).toBeGreaterThanOrEqual(3);
      expect(report.figures.find((f) => f.name === 'holds/s (successful)')?.ratio).toBeGreaterThan(0);
    }
    // Bookings are timed by the second they were sent in, as holds are (the buyers' side of the timeline).
    expect(names.some((n) => n.startsWith('booking ack p99, bookings sent'))).toBe(true);
    expect(report.machine.cpus).toBeGreaterThan(0);
    expect(report.command).toBe('smoke');
  });

  it('When watchers are spread over 2 client processes, then a fan-out run merges both and audits PASS', async () => {
    const { scenario, raw } = parseArgs(['fan-out', '--watchers', '4', '--client-procs', '2', '--seats', '20', '--duration', '2', '--rate', '5']);
    const opts = resolveOptions(scenario, optionsSchema.parse({ ...raw, dialect, progress: 'false', write: 'false', logLevel: 'silent' }));

    const report = await runScenario(scenario, opts, 'smoke');

    expect(report.audit?.pass).toBe(true);
    expect(report.details.watcherProcesses).toBe(2);
    // Each process's watchers saw batches: both halves were connected and measured, not just one.
    const batches = report.details.watcherBatchesPerProcess as number[];
    expect(batches).toHaveLength(2);
    for (const b of batches) expect(b).toBeGreaterThan(0);
    const run = report.details.run as { deliveries: number; changes: number };
    expect(run.changes).toBeGreaterThan(0);
    expect(run.deliveries).toBeGreaterThan(0);
    // The bare baseline's watchers are spread the same way, so the ratio compares like with like.
    expect((report.details.bareBroadcast as { processes: number; delivered: number }).processes).toBe(2);
    expect((report.details.bareBroadcast as { processes: number; delivered: number }).delivered).toBeGreaterThan(0);
    expect(report.figures.find((f) => f.name === 'client processes (watchers)')?.value).toBe(2);
  });

  it('When join-storm clients are spread over 2 client processes, then every client gets its snapshot and the histograms merge', async () => {
    const { scenario, raw } = parseArgs(['join-storm', '--clients', '4', '--client-procs', '2', '--seats', '100', '--join-window-ms', '100']);
    const opts = resolveOptions(scenario, optionsSchema.parse({ ...raw, dialect, progress: 'false', write: 'false', logLevel: 'silent' }));

    const report = await runScenario(scenario, opts, 'smoke');

    expect(report.audit?.pass).toBe(true);
    for (const run of [report.details.run, report.details.bare] as { processes: number; failures: number; latency: { count: number } }[]) {
      expect(run.processes).toBe(2);
      expect(run.failures).toBe(0);
      expect(run.latency.count).toBe(4);
    }
  });

  it('rejects bad options with a clear message', () => {
    expect(() => parseArgs(['no-such-scenario'])).toThrow(/unknown scenario/);
    expect(() => parseArgs([])).toThrow(UsageError);
    expect(() => parseArgs(['flash-sale', '--help'])).toThrow(HelpRequested);
    expect(() => parseArgs(['--help'])).toThrow(HelpRequested);
    expect(() => parseArgs(['flash-sale', '--buyers'])).toThrow(/--buyers needs a value/);
    expect(optionsSchema.safeParse({ buyers: '-3', env: [] }).success).toBe(false);
    expect(optionsSchema.safeParse({ bogus: '1', env: [] }).success).toBe(false);
  });

  it('takes --redis-cluster alone or with a value', () => {
    const parsed = (argv: string[]) => optionsSchema.parse(parseArgs(argv).raw).redisCluster;
    expect(parsed(['fan-out', '--redis-cluster', '--nodes', '3'])).toBe(true);
    expect(parsed(['fan-out', '--nodes', '3', '--redis-cluster'])).toBe(true);
    expect(parsed(['fan-out', '--redis-cluster', 'false'])).toBe(false);
    expect(parsed(['fan-out'])).toBe(false);
  });
});

describe('load generator command line', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [require.resolve('tsx/cli'), 'load/cli.ts', ...args], { encoding: 'utf8', timeout: 60_000 });

  it('When help is asked for, then it prints the usage on stdout and exits 0; a bad option exits 2', () => {
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: npm run load/);
    const bad = run('flash-sale', '--buyers', 'many');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/invalid option --buyers/);
    const none = run();
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/usage:/);
  });
});

describe('load generator: Retry-After and jitter', () => {
  const busy = { code: 'BUSY', message: 'busy', details: { retryAfterSeconds: 1 } };

  it('When the server answers BUSY or RATE_LIMITED, then the buyer comes back later; other codes are decisions', () => {
    expect(retryLaterCode(busy)).toBe('BUSY');
    expect(retryLaterCode({ code: 'RATE_LIMITED', message: 'slow down', details: { retryAfterSeconds: 3 } })).toBe('RATE_LIMITED');
    expect(retryLaterCode({ code: 'SEAT_UNAVAILABLE', message: 'taken' })).toBeUndefined();
    expect(retryLaterCode({ code: 'ACK_TIMEOUT', message: 'no ack' })).toBeUndefined();
  });

  it("When details.retryAfterSeconds is given, then it is the wait; when absent or unusable, then 1 s", () => {
    expect(retryAfterSeconds({ code: 'RATE_LIMITED', message: '', details: { retryAfterSeconds: 3 } })).toBe(3);
    expect(retryAfterSeconds({ code: 'BUSY', message: '' })).toBe(1);
    expect(retryAfterSeconds({ code: 'BUSY', message: '', details: { retryAfterSeconds: 'soon' } })).toBe(1);
    expect(retryAfterSeconds({ code: 'BUSY', message: '', details: { retryAfterSeconds: 0 } })).toBe(1);
  });

  it('When the jitter draws its extremes, then the wait spans 0.5x to 1.5x of Retry-After', () => {
    expect(retryDelayMs(busy, () => 0)).toBe(500);
    expect(retryDelayMs(busy, () => 0.5)).toBe(1000);
    expect(retryDelayMs(busy, () => 0.999999)).toBeCloseTo(1500, 0);
    expect(retryDelayMs({ code: 'RATE_LIMITED', message: '', details: { retryAfterSeconds: 4 } }, () => 0)).toBe(2000);
    for (let i = 0; i < 100; i++) {
      const ms = retryDelayMs(busy);
      expect(ms).toBeGreaterThanOrEqual(500);
      expect(ms).toBeLessThan(1500);
    }
  });
});

describe('load generator: raw SQLite compare-and-set baseline', () => {
  it('When workers race for a few rows, then every attempt is a success or a conflict and versions never skip', async () => {
    const r = await sqliteCasBaseline({ concurrency: 16, rows: 3, durationMs: 300 });
    expect(r.attempts).toBeGreaterThan(0);
    expect(r.successes + r.conflicts).toBe(r.attempts);
    expect(r.connections).toBe(1);
    expect(r.roundTripsPerAttempt).toBeGreaterThanOrEqual(3);
    // 16 workers share 3 rows and choose their version before their turn: some must lose.
    expect(r.conflicts).toBeGreaterThan(0);
  });

  it('When the same race runs through knex, then it reports the same shape', async () => {
    const r = await sqliteKnexCasBaseline({ concurrency: 8, rows: 3, durationMs: 300 });
    expect(r.attempts).toBeGreaterThan(0);
    expect(r.successes + r.conflicts).toBe(r.attempts);
  });
});

describeEach(mysqlDialects(), 'load generator: raw hold transactions baseline (%s)', () => {
  it('When workers race for a few seats, then holds win or find the seat taken, won holds are released, and the scratch tables go', async () => {
    const created = await createMysqlDatabase();
    try {
      const r = await holdTxBaseline(created.url, { concurrency: 6, connections: 3, rows: 2, durationMs: 300 });
      expect(r.attempts).toBeGreaterThan(0);
      // More wins than seats: every won hold was released again.
      expect(r.successes).toBeGreaterThan(2);
      // 6 workers on 2 seats: some holds find their seat held by another worker.
      expect(r.successes).toBeLessThan(r.attempts);
      const conn = await mysql.createConnection({ uri: created.url });
      const [tables] = await conn.query("SHOW TABLES LIKE 'load_holdtx_%'");
      await conn.end();
      expect(tables).toEqual([]);
    } finally {
      await created.drop();
    }
  });
});

describe('load generator: clients spread over processes', () => {
  it('When no count is asked for, then each process gets at most 4,000 sockets; an asked count is capped by the clients', () => {
    expect(clientProcessCount(2)).toBe(1);
    expect(clientProcessCount(4000)).toBe(1);
    expect(clientProcessCount(4001)).toBe(2);
    expect(clientProcessCount(10_000)).toBe(3);
    expect(clientProcessCount(10_000, 2)).toBe(2);
    expect(clientProcessCount(3, 8)).toBe(3);
  });

  it('When a watchers job is split, then every client lands in one part, on the node it had in one process', () => {
    const tokens = Array.from({ length: 7 }, (_, i) => `t${i}`);
    const urls = ['http://a', 'http://b'];
    const parts = splitJob({ kind: 'watchers', urls, eventId: 1, tokens, connectConcurrency: 10, waitFor: 'snapshot' }, 3);
    expect(parts).toHaveLength(3);
    const placed = parts.flatMap((p) => p.tokens.map((t, k) => [t, (p as { urls: string[] }).urls[k % (p as { urls: string[] }).urls.length]]));
    expect(placed.map(([t]) => t).sort()).toEqual([...tokens].sort());
    for (const [t, url] of placed) expect(url).toBe(urls[Number(t!.slice(1)) % urls.length]);
  });
});

describeEach(mysqlDialects(), 'load generator: the queue scenario (%s, 2 node processes + Redis)', (dialect) => {
  it('When 8 buyers queue for a shop of 2, then all join, admissions respect the limit and the report has every figure', async () => {
    const { scenario, raw } = parseArgs(['queue', '--clients', '8', '--client-procs', '2', '--seats', '20', '--duration', '4', '--max-active', '2', '--admit-per-minute', '600']);
    const opts = resolveOptions(scenario, optionsSchema.parse({ ...raw, dialect, progress: 'false', write: 'false', logLevel: 'silent' }));

    const report = await runScenario(scenario, opts, 'smoke');

    expect(report.audit?.pass).toBe(true);
    const value = (name: string) => report.figures.find((f) => f.name.startsWith(name))?.value;
    expect(value('queued clients (joined)')).toBe(8);
    expect(value('max active (store')).toBeLessThanOrEqual(2);
    expect(value('holds refused NOT_ADMITTED')).toBe(0);
    expect(value('positions that moved back')).toBe(0);
    expect(value('admitted / holds')).toBeGreaterThan(0);
  }, 120_000);
});
