import type { QueueConfigBody } from '../server/contracts/queue';
import type { QueueDone, QueueJob } from './queue-client';
import { figure } from './report';
import type { Ctx } from './scenario-kit';
import { layout } from './scenario-kit';
import { Latency, round, sleep, wallNow } from './stats';
import { ClientGroup, clientProcessCount } from './workers';

interface LineSample {
  t: number;
  admitted: number;
  active: number;
  waiting: number;
  lobby: number;
  drawn: boolean;
}

/** Sums one Prometheus counter or gauge over the nodes' /metrics (every label set). */
async function metricSum(urls: string[], name: string): Promise<number> {
  let sum = 0;
  for (const url of urls) {
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const line of text.split('\n')) if (line.startsWith(name) && /^[a-z_]+(\{[^}]*\})? /.test(line) && line.split(/[{ ]/)[0] === name) sum += Number(line.split(' ').pop());
  }
  return sum;
}

/** Largest number of [start, end) intervals open at once. */
function maxOverlap(intervals: [number, number][]): number {
  const edges = intervals.flatMap(([a, b]) => [[a, 1], [b, -1]] as [number, number][]).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let open = 0;
  let max = 0;
  for (const [, d] of edges) max = Math.max(max, (open += d));
  return max;
}

/**
 * `queue`: `--clients` buyers (20,000 by default, over child processes) join an event's waiting room before the
 * sale start, wait in the lobby, are drawn at the start and admitted at `--admit-per-minute` with at most
 * `--max-active` shopping for `--window` s. Admitted buyers open the seat map, hold a seat, then book (most), idle
 * out their window or leave. Reports admission-rate accuracy, position-update cost (messages/s and server CPU),
 * admission → first hold, and the most buyers ever active (the store's count, sampled, and the clients' own view).
 */
export async function queueScenario(ctx: Ctx): Promise<void> {
  const { opts, cluster, figures, details } = ctx;
  const ev = await cluster.seedEvent({ ...layout(opts.seats), holdTtlSeconds: 300, maxSeatsPerOrder: 4, maxSeatsPerUser: 4 });
  ctx.eventIds.push(ev.eventId);
  const [users, [staff]] = await Promise.all([cluster.createUsers(opts.clients), cluster.createUsers(1, 'box_office')]);
  const iso = (ms: number) => new Date(Date.now() + ms).toISOString();
  const rules: QueueConfigBody = { enabled: true, opensAt: iso(-60_000), saleStartsAt: iso(24 * 3600_000), maxActive: opts.maxActive, admitPerMinute: opts.admitPerMinute, windowSeconds: opts.window };
  await cluster.services.queue.configure(ev.eventId, rules);
  const urls = cluster.urls;
  const line = async (): Promise<LineSample> => {
    const res = await fetch(`${urls[0]}/api/admin/events/${ev.eventId}/queue`, { headers: { authorization: `Bearer ${staff!.token}` } });
    const body = (await res.json()) as { line: Omit<LineSample, 't'> };
    return { t: wallNow(), ...body.line };
  };
  // In-process nodes share this process: its CPU is theirs (the clients run in child processes).
  const serverCpuSeconds = async () => (cluster.inProcess ? process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6 : metricSum(urls, 'process_cpu_seconds_total'));

  const procs = clientProcessCount(users.length, opts.clientProcs);
  const jobs: QueueJob[] = Array.from({ length: procs }, (_, p) => ({
    kind: 'queue',
    // Rotated so that client i of the whole crowd lands on node i mod nodes, whichever process runs it.
    urls: urls.map((_, k) => urls[(p + k) % urls.length]!),
    eventId: ev.eventId,
    tokens: users.filter((_, i) => i % procs === p).map((u) => u.token),
    connectConcurrency: Math.max(1, Math.ceil(opts.connectConcurrency / procs)),
    plan: { book: opts.bookProbability, idle: opts.expireProbability },
  }));
  const group = new ClientGroup(jobs);
  try {
    const t0 = wallNow();
    const connected = await group.all<{ joined: number; failures: number }>('connected');
    details.joinSeconds = round((wallNow() - t0) / 1000);
    details.clientProcesses = procs;
    const joined = connected.reduce((n, c) => n + c.joined, 0);
    const joinFailures = connected.reduce((n, c) => n + c.failures, 0);
    process.stderr.write(`queue: ${joined} joined (${joinFailures} failed) in ${details.joinSeconds}s\n`);

    // The lobby, quiet: sockets held, nothing moves (the cost of holding 20,000 waiting sockets).
    const lobbyCpu0 = await serverCpuSeconds();
    const lobbyT0 = wallNow();
    await sleep(10_000);
    details.lobbyServerCpuPercent = round((100 * ((await serverCpuSeconds()) - lobbyCpu0)) / ((wallNow() - lobbyT0) / 1000), 1);

    // The sale starts now: the next tick of any node draws the lobby into tickets.
    await cluster.services.queue.configure(ev.eventId, { ...rules, saleStartsAt: iso(0) });
    while (!(await line()).drawn) await sleep(100);
    group.send({ type: 'drawn' });

    const msgs0 = await metricSum(urls, 'evently_queue_progress_messages_total');
    const cpu0 = await serverCpuSeconds();
    const samples: LineSample[] = [];
    const started = wallNow();
    while (wallNow() - started < opts.duration * 1000) {
      const s = await line();
      samples.push(s);
      if (opts.progress) process.stderr.write(`\r${round((s.t - started) / 1000, 0)}s admitted ${s.admitted} active ${s.active} waiting ${s.waiting}   `);
      await sleep(500);
    }
    const seconds = (wallNow() - started) / 1000;
    const messages = (await metricSum(urls, 'evently_queue_progress_messages_total')) - msgs0;
    const cpu = (await serverCpuSeconds()) - cpu0;
    group.send({ type: 'finish' });
    const parts = await group.all<QueueDone>('done');

    const hist = new Latency();
    for (const p of parts) hist.merge(p.admitToHold);
    const sum = (f: (p: QueueDone) => number) => parts.reduce((n, p) => n + f(p), 0);
    const refused: Record<string, number> = {};
    for (const p of parts) for (const [k, v] of Object.entries(p.refused)) refused[k] = (refused[k] ?? 0) + v;

    // Admission rate while the rate was the limit: until the shop first came within a second's admissions of full.
    const perSecond = Math.ceil(opts.admitPerMinute / 60);
    const first = samples.find((s) => s.admitted > 0);
    const full = samples.findIndex((s) => s.active >= opts.maxActive - perSecond);
    const last = full < 0 ? samples[samples.length - 1]! : samples[Math.max(0, full - 1)]!;
    const measuredRate = first && last.t > first.t ? ((last.admitted - first.admitted) / (last.t - first.t)) * 60_000 : 0;
    const maxActiveSeen = Math.max(0, ...samples.map((s) => s.active));
    const waitingAvg = samples.reduce((n, s) => n + s.waiting, 0) / Math.max(1, samples.length);
    details.rateBoundSeconds = first ? round((last.t - first.t) / 1000) : 0;
    details.refused = refused;
    details.samples = samples.filter((_, i) => i % 4 === 0).map((s) => ({ s: round((s.t - started) / 1000, 1), admitted: s.admitted, active: s.active, waiting: s.waiting }));

    figures.push(figure('queued clients (joined)', joined, 'sockets', undefined, { value: ['>=', opts.clients] }));
    figures.push(figure('join failures', joinFailures, 'clients', undefined, { value: ['<=', 0] }));
    figures.push(figure('admission rate (configured)', opts.admitPerMinute, '/min'));
    figures.push(figure('admission rate (measured, rate-bound stretch)', round(measuredRate, 1), '/min', undefined, { value: ['>=', opts.admitPerMinute * 0.95] }));
    figures.push(figure('admission rate accuracy', round((100 * measuredRate) / opts.admitPerMinute, 1), '%'));
    figures.push(figure('max active (store, sampled 2/s)', maxActiveSeen, 'buyers', undefined, { value: ['<=', opts.maxActive] }));
    figures.push(figure('max active (clients: admitted..booked/left/window end)', maxOverlap(parts.flatMap((p) => p.shopping)), 'buyers', undefined, undefined, 'upper bound: a booking is counted until its ack'));
    figures.push(figure('admitted / holds', sum((p) => p.admitted), 'buyers', sum((p) => p.holds)));
    figures.push(figure('holds refused NOT_ADMITTED', refused.NOT_ADMITTED ?? 0, 'holds', undefined, { value: ['<=', 0] }));
    figures.push(figure('positions that moved back', sum((p) => p.movedBack), 'times', undefined, { value: ['<=', 0] }));
    const h = hist.summary();
    figures.push(figure('admission -> first hold p50', h.p50, 'ms'));
    figures.push(figure('admission -> first hold p95', h.p95, 'ms'));
    figures.push(figure('admission -> first hold p99', h.p99, 'ms'));
    figures.push(figure('progress messages written', round(messages / seconds), '/s'));
    figures.push(figure('progress messages per waiting socket', round(messages / seconds / Math.max(1, waitingAvg), 2), '/s', undefined, { value: ['<=', 1.1] }));
    figures.push(figure('progress messages received (clients)', round(sum((p) => p.progressMessages) / seconds), '/s'));
    figures.push(figure('server CPU, lobby (sockets held, line still)', Number(details.lobbyServerCpuPercent), '% of a core'));
    figures.push(figure('server CPU, admission phase', round((100 * cpu) / seconds, 1), '% of a core'));
  } finally {
    await group.stop();
  }
}
