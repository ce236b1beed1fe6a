import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { BuyerPlan } from './buyer';
import { figure } from './report';
import { layout, runBuyers, type Ctx } from './scenario-kit';
import { Latency, now, round, sleep } from './stats';

const PASSWORD = 'login-storm-password-1';

/** Main-thread event-loop delay while `run` runs (the in-process nodes live on this thread). */
async function withLoopDelay<T>(run: () => Promise<T>): Promise<{ result: T; loop: { p50: number; p99: number; max: number } }> {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  try {
    const result = await run();
    return { result, loop: { p50: round(h.percentile(50) / 1e6), p99: round(h.percentile(99) / 1e6), max: round(h.max / 1e6) } };
  } finally {
    h.disable();
  }
}

/**
 * login-storm: buyers cycle hold -> release over Socket.IO, first quietly, then while sign-ins (POST
 * /api/auth/login, correct password) arrive at `--rate` per second for the same duration. Reports, quiet vs storm,
 * the nodes' event-loop delay and the buyers' hold ack latency, plus sign-in throughput and latency.
 *
 * The sign-in accounts get the password hash the server itself produces (one registration through the API,
 * copied to every storm account), so the same command measures whatever hashing the server does.
 */
export async function loginStorm(ctx: Ctx): Promise<void> {
  const { opts, cluster, figures, details } = ctx;
  const url0 = cluster.urls[0]!;
  const tag = randomBytes(4).toString('hex');
  const reg = await fetch(`${url0}/api/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `storm-${tag}-template@example.com`, password: PASSWORD, name: 'Storm template' }),
  });
  if (reg.status !== 201) throw new Error(`login-storm: registering the template account answered ${reg.status}`);
  const { password_hash: hash } = await cluster.db('users').where({ email: `storm-${tag}-template@example.com` }).first('password_hash');
  details.hashScheme = String(hash).split('$')[1];
  const accounts = Math.max(1, opts.clients || Math.ceil(opts.rate * opts.duration));
  const emails = Array.from({ length: accounts }, (_, i) => `storm-${tag}-${i}@example.com`);
  for (let i = 0; i < emails.length; i += 500) {
    await cluster.db('users').insert(emails.slice(i, i + 500).map((email, j) => ({ email, name: `Storm ${i + j}`, password_hash: hash, role: 'user', created_at: Date.now() })));
  }

  const plan: BuyerPlan = { seatsPerHold: opts.seatsPerHold, bookProbability: 0, expireProbability: 0, thinkMs: opts.thinkMs, oneBooking: false, maxAttempts: Number.MAX_SAFE_INTEGER };
  const phase = async (label: string, during?: () => Promise<void>) => {
    const ev = await cluster.seedEvent({ ...layout(opts.seats), holdTtlSeconds: 60, maxSeatsPerOrder: 10, maxSeatsPerUser: 10 });
    ctx.eventIds.push(ev.eventId);
    const users = await cluster.createUsers(opts.buyers);
    let storm: Promise<void> | undefined;
    const { result, loop } = await withLoopDelay(() =>
      runBuyers(ctx, ev, users, plan, { strategy: 'random', durationMs: opts.duration * 1000, lingerMs: 0, label: `[${label}] `, onStart: () => (storm = during?.()) }),
    );
    await storm;
    return { run: result, loop };
  };

  const logins = new Latency();
  let ok = 0;
  let failed = 0;
  let stormSeconds = 0;
  /** Sign-ins at a fixed offered rate (not a fixed concurrency), so slower hashing queues up as it would. */
  const signIns = async () => {
    const t0 = now();
    const interval = 1000 / opts.rate;
    const inFlight: Promise<void>[] = [];
    for (let i = 0; now() - t0 < opts.duration * 1000; i++) {
      const url = cluster.urls[i % cluster.urls.length]!;
      const started = now();
      inFlight.push(
        fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: emails[i % emails.length], password: PASSWORD }) }).then(
          async (r) => {
            await r.arrayBuffer();
            if (r.status === 200) ok++;
            else failed++;
            logins.recordMs(now() - started);
          },
          () => void failed++,
        ),
      );
      await sleep(Math.max(0, t0 + (i + 1) * interval - now()));
    }
    await Promise.all(inFlight);
    stormSeconds = (now() - t0) / 1000;
  };

  const quiet = await phase('quiet');
  const storm = await phase('storm', signIns);
  const q = quiet.run.stats.holdAck.summary();
  const s = storm.run.stats.holdAck.summary();
  const l = logins.summary();
  details.quiet = { loopDelayMs: quiet.loop, holdAck: q, holds: quiet.run.stats.holds, errors: quiet.run.stats.errors };
  details.storm = { loopDelayMs: storm.loop, holdAck: s, holds: storm.run.stats.holds, errors: storm.run.stats.errors, signIns: { ok, failed, seconds: round(stormSeconds), latency: l } };
  figures.push(figure('sign-ins offered', opts.rate, '1/s'));
  figures.push(figure('sign-ins completed', ok / Math.max(stormSeconds, 0.001), '1/s'));
  figures.push(figure('sign-in latency p50', l.p50, 'ms'));
  figures.push(figure('sign-in latency p99', l.p99, 'ms'));
  figures.push(figure('event-loop delay p50 (storm; baseline: quiet)', storm.loop.p50, 'ms', quiet.loop.p50));
  figures.push(figure('event-loop delay p99 (storm; baseline: quiet)', storm.loop.p99, 'ms', quiet.loop.p99));
  figures.push(figure('event-loop delay max (storm; baseline: quiet)', storm.loop.max, 'ms', quiet.loop.max));
  figures.push(figure('hold ack p50 (storm; baseline: quiet)', s.p50, 'ms', q.p50));
  figures.push(figure('hold ack p99 (storm; baseline: quiet)', s.p99, 'ms', q.p99, { ratio: ['<=', 2] }));
  figures.push(figure('holds/s (storm; baseline: quiet)', storm.run.stats.holds / storm.run.seconds, '1/s', quiet.run.stats.holds / quiet.run.seconds));
  if (failed) details.signInFailures = failed;
}
