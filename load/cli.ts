/**
 * `npm run load -- <scenario> [--option value ...]`: runs a load scenario against in-process Evently nodes
 * (fresh MariaDB database, Redis adapter for several nodes) or a running deployment (--url), prints a live
 * progress line and a report table, writes the report as JSON under load/results/, and exits non-zero when
 * the audit fails. See load/README.md.
 */
import { z } from 'zod';
import { DEFAULTS, optionsSchema, resolveOptions, SCENARIOS, type ScenarioName } from './options';
import { formatTable, writeReport } from './report';
import { runScenario } from './scenarios';

const USAGE = `usage: npm run load -- <${SCENARIOS.join('|')}> [options]

options (defaults depend on the scenario; see load/README.md):
  --nodes N              in-process server nodes (Redis adapter when > 1)
  --buyers N  --seats N  --watchers N  --clients N  --contenders 8,256
  --duration S           seconds of load (per phase for hot-seat)
  --strategy random|hotspot|best   --seats-per-hold N
  --book-probability P   --expire-probability P   --hold-ttl S   --think-ms MS
  --rate R               seat changes per second (fan-out), sign-ins per second (login-storm)
  --join-window-ms MS    join-storm spread
  --pool N               DB_POOL_MAX per node
  --client-procs N       child processes for watchers and join-storm clients (default: one per 4,000 sockets),
                         and for flash-sale's bare ack-echo clients (default: one thread, as the buyers)
  --baseline true|false  --memory true|false  --memory-connections N
  --watcher-role box_office|anonymous
  --dialect mysql|sqlite --mysql-url URL  --redis-url URL
  --redis-cluster        start a local Redis Cluster (3 masters + 3 replicas) for the run; sharded adapter
  --url URL --database-url URL   target a running deployment (JWT_SECRET from the environment)
  --max-active N --admit-per-minute N --window S   waiting room (queue scenario)
  --node-procs true|false  nodes in child processes of their own (queue default: true)
  --env KEY=VALUE        extra server environment (repeatable)
  --out DIR  --write false  --progress false`;

export function parseArgs(argv: string[]): { scenario: ScenarioName; raw: Record<string, unknown> } {
  const [scenario, ...rest] = argv;
  // Asked-for help is an answer (stdout, exit 0); a missing scenario is a mistake (stderr, exit 2).
  if (argv.includes('--help') || argv.includes('-h')) throw new HelpRequested(USAGE);
  if (!scenario) throw new UsageError(USAGE);
  const parsedScenario = z.enum(SCENARIOS).safeParse(scenario);
  if (!parsedScenario.success) throw new UsageError(`unknown scenario "${scenario}"\n\n${USAGE}`);
  const raw: Record<string, unknown> = { env: [] };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"\n\n${USAGE}`);
    let [key, value] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (value === undefined && FLAGS.has(key) && (rest[i + 1] === undefined || rest[i + 1]!.startsWith('--'))) value = 'true';
    if (value === undefined) {
      value = rest[i + 1];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`--${key} needs a value`);
      i++;
    }
    const camel = key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (camel === 'env') (raw.env as string[]).push(value);
    else raw[camel] = value;
  }
  return { scenario: parsedScenario.data, raw };
}

/** Options that may stand alone (`--redis-cluster` means `--redis-cluster true`). */
const FLAGS = new Set(['redis-cluster']);

/** The command line is wrong: the message says how, with the usage; exit 2. */
export class UsageError extends Error {}
/** `--help` or `-h` anywhere: the usage is the answer; exit 0. */
export class HelpRequested extends Error {}

async function main(): Promise<number> {
  let scenario: ScenarioName;
  let raw: Record<string, unknown>;
  try {
    ({ scenario, raw } = parseArgs(process.argv.slice(2)));
  } catch (err) {
    if (err instanceof HelpRequested) {
      process.stdout.write(`${err.message}\n`);
      return 0;
    }
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const parsed = optionsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    process.stderr.write(`invalid option --${issue.path.join('.')}: ${issue.message}\n\n${USAGE}\n`);
    return 2;
  }
  const opts = resolveOptions(scenario, parsed.data);
  const command = `npm run load -- ${process.argv.slice(2).join(' ')}`;
  process.stderr.write(`${scenario}: ${JSON.stringify({ ...DEFAULTS[scenario], ...Object.fromEntries(Object.entries(opts).filter(([k]) => k in DEFAULTS[scenario])) })}\n`);
  const report = await runScenario(scenario, opts, command);
  if (opts.write) report.file = writeReport(report, opts.out);
  process.stdout.write(`\n${formatTable(report)}\n`);
  if (report.file) process.stdout.write(`\nreport: ${report.file}\n`);
  return report.audit?.pass ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`\nload run failed: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
