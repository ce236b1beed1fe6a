import { testDialects, describeEach } from '../helpers/dialects';
import { optionsSchema, resolveOptions } from '../../load/options';
import { runScenario } from '../../load/scenarios';
import { HelpRequested, parseArgs, UsageError } from '../../load/cli';
import { spawnSync } from 'node:child_process';

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
    for (const name of ['holds/s (successful)', 'hold attempts/s', 'conflicts/s', 'hold ack p99', 'bookings/s', 'broadcast delivery p99']) {
      expect(names).toContain(name);
    }
    const run = report.details.run as { holds: number; bookings: number; seatsBooked: number; holdAck: { count: number } };
    expect(run.holds).toBeGreaterThan(0);
    expect(run.bookings).toBeGreaterThan(0);
    expect(run.holdAck.count).toBeGreaterThan(0);
    // Every acknowledged booking was checked against the database.
    expect(report.audit?.checks.find((c) => c.name.startsWith('every acknowledged booking'))?.detail).toContain(`${run.bookings} acknowledged`);
    expect((report.details.bareBroadcast as { watchers: number }).watchers).toBe(2);
    if (dialect === 'mysql') {
      // Round trips are counted and the raw compare-and-set baseline ran against the same MariaDB.
      const rt = report.figures.find((f) => f.name.startsWith('db round trips per hold'));
      expect(rt?.value).toBeGreaterThan(3);
      expect(rt?.baseline).toBeGreaterThanOrEqual(3);
      expect(report.figures.find((f) => f.name === 'holds/s (successful)')?.ratio).toBeGreaterThan(0);
    }
    expect(report.machine.cpus).toBeGreaterThan(0);
    expect(report.command).toBe('smoke');
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
