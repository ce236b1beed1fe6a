import { randomBytes } from 'node:crypto';
import { createUsers, seedEvent, startTestEnv, TEST_JWT_SECRET, type TestEnv } from '../helpers/env';
import { mysqlDialects, describeEach } from '../helpers/dialects';
import { send, until, watch } from '../helpers/sockets';
import { privateMariadb, privateRedis, spawnNode, stopNode, type ChildNode, type PrivateMariadb, type PrivateRedis } from './procs';

/**
 * Fault suite: two Evently nodes as child processes on loopback, with a MariaDB and a Redis of this file's
 * own (the shared ones on 3306/6379 are never touched), which the tests kill and restart.
 */

interface Reply {
  status: number;
  body: any;
}

/** fetch with a timeout; a network failure comes back as status 0 (the client saw no answer). */
async function call(base: string, method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(20000),
    });
    const text = await res.text();
    return { status: res.status, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
  } catch {
    return { status: 0, body: null };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeEach(mysqlDialects(), 'fault suite (%s, private MariaDB and Redis)', (dialect) => {
  let mdb: PrivateMariadb;
  let redis: PrivateRedis;
  let env: TestEnv;
  let childEnv: Record<string, string>;
  const children: ChildNode[] = [];

  beforeAll(async () => {
    // knex reports lost connections with console.log; they are the point of this suite, not noise to show.
    const log = console.log.bind(console);
    jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      if (/^(Acquire connection error|Connection Error)/.test(String(args[0]))) return;
      log(...args);
    });
    [mdb, redis] = await Promise.all([privateMariadb(), privateRedis()]);
    const url = await mdb.createDatabase(`evently_fault_${randomBytes(4).toString('hex')}`);
    const prefix = `evently-fault-${randomBytes(4).toString('hex')}`;
    // An in-process node on the same private database seeds data; env.db checks what is stored.
    env = await startTestEnv({ dialect, redis: true, env: { DATABASE_URL: url, REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix } });
    childEnv = { DATABASE_URL: url, REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix, JWT_SECRET: TEST_JWT_SECRET, DB_POOL_MAX: '4', SWEEP_INTERVAL_MS: '200' };
    children.push(...(await Promise.all([spawnNode(childEnv), spawnNode(childEnv)])));
  }, 90000);

  afterAll(async () => {
    await Promise.all(children.map((c) => stopNode(c, 'SIGKILL')));
    await env?.stop().catch(() => undefined);
    await redis?.stop();
    await mdb?.destroy();
  }, 60000);

  const alive = (c: ChildNode) => c.proc.exitCode === null && c.proc.signalCode === null;

  test('SIGKILL a node in the middle of bookings: retries on the other node with the same key book each seat once', async () => {
    const [a, b] = children as [ChildNode, ChildNode];
    const N = 12;
    const users = await createUsers(env, N);
    const ev = await seedEvent(env, { rows: 2, seatsPerRow: 10 });
    const holds = await Promise.all(
      users.map(async (u, i) => {
        const r = await call(a.url, 'POST', `/api/events/${ev.eventId}/holds`, u.token, { seatIds: [ev.seatIds[i]] });
        expect(r.status).toBe(201);
        return r.body.holdToken as string;
      }),
    );
    const key = (i: number) => `kill-${i}-${ev.eventId}`;
    // Fire every booking at node A and kill it as soon as the first one is answered: the rest are in flight
    // (committed or not, answered or not).
    let firstAnswered!: () => void;
    const answered = new Promise<void>((r) => (firstAnswered = r));
    const first = users.map((u, i) =>
      call(a.url, 'POST', '/api/bookings', u.token, { holdToken: holds[i] }, { 'Idempotency-Key': key(i) }).then((r) => {
        if (r.status === 201) firstAnswered();
        return r;
      }),
    );
    await Promise.race([answered, sleep(5000)]);
    a.proc.kill('SIGKILL');
    const firstReplies = await Promise.all(first);
    expect((await a.exited).signal).toBe('SIGKILL');
    const unanswered = firstReplies.filter((r) => r.status !== 201).length;

    // The client retries every booking it has no answer for on node B with the same key; the ones that
    // were answered are retried too (a client that lost the reply would): each is the same booking.
    const retries = await Promise.all(users.map((u, i) => call(b.url, 'POST', '/api/bookings', u.token, { holdToken: holds[i] }, { 'Idempotency-Key': key(i) })));
    for (const [i, r] of retries.entries()) {
      expect([200, 201]).toContain(r.status);
      if (firstReplies[i]!.status === 201) {
        expect(r.status).toBe(200); // replayed
        expect(r.body.id).toBe(firstReplies[i]!.body.id);
      }
    }
    const bookings = await env.db('bookings').where({ event_id: ev.eventId });
    expect(bookings).toHaveLength(N);
    expect(new Set(bookings.map((x) => x.hold_id)).size).toBe(N);
    const seats = await env.db('booking_seats').whereIn('booking_id', bookings.map((x) => x.id));
    expect(seats.map((s) => s.seat_id).sort((x, y) => x - y)).toEqual(ev.seatIds.slice(0, N));
    const booked = await env.db('event_seats').where({ event_id: ev.eventId, status: 'booked' }).count({ n: '*' });
    expect(Number(booked[0]!.n)).toBe(N);
    expect(alive(b)).toBe(true);
    // Record how the kill landed (for docs/OPERATIONS.md): how many replies the client never got.
    process.stdout.write(`[fault] SIGKILL mid-booking: ${N - unanswered}/${N} answered before the kill, ${unanswered} retried on the other node\n`);

    // Replace the killed node for the next cases.
    children[0] = await spawnNode(childEnv);
  }, 60000);

  test('restart MariaDB (crash) under load: 503s, no node crashes, every acknowledged booking is still there', async () => {
    const users = await createUsers(env, 8);
    const ev = await seedEvent(env, { rows: 10, seatsPerRow: 20 });
    const acked: { id: number; seatId: number }[] = [];
    const outcomes: Record<string, number> = {};
    let stop = false;
    let nextSeat = 0;
    const client = async (u: { token: string }, n: number) => {
      for (let k = 0; !stop; k++) {
        const node = children[(n + k) % 2]!;
        const seatId = ev.seatIds[nextSeat++ % ev.seatIds.length]!;
        const h = await call(node.url, 'POST', `/api/events/${ev.eventId}/holds`, u.token, { seatIds: [seatId] });
        outcomes[`hold ${h.status}`] = (outcomes[`hold ${h.status}`] ?? 0) + 1;
        if (h.status !== 201) {
          await sleep(50);
          continue;
        }
        const bk = await call(node.url, 'POST', '/api/bookings', u.token, { holdToken: h.body.holdToken }, { 'Idempotency-Key': `load-${n}-${k}-${seatId}` });
        outcomes[`book ${bk.status}`] = (outcomes[`book ${bk.status}`] ?? 0) + 1;
        if (bk.status === 201) acked.push({ id: bk.body.id, seatId });
      }
    };
    const load = Promise.all(users.map((u, n) => client(u, n)));
    await until(() => acked.length >= 10, 20000, 'bookings before the crash');
    const beforeCrash = acked.length;
    await mdb.stop('SIGKILL');
    // While the database is down the nodes stay up and say they are not ready.
    await until(async () => (await call(children[0]!.url, 'GET', '/readyz', '')).status === 503, 5000, 'readyz 503 while MariaDB is down');
    expect((await call(children[1]!.url, 'GET', '/healthz', '')).status).toBe(200);
    await sleep(1000);
    const restartedAt = Date.now();
    await mdb.start();
    await until(async () => (await Promise.all(children.map((c) => call(c.url, 'GET', '/readyz', '')))).every((r) => r.status === 200), 20000, 'readyz 200 after restart');
    const readyAfterMs = Date.now() - restartedAt;
    const atRestart = acked.length;
    await until(() => acked.length >= atRestart + 10, 30000, 'bookings after the restart');
    stop = true;
    await load;

    expect(children.every(alive)).toBe(true);
    // The outage shows as 503 SERVICE_UNAVAILABLE (retryable), never as 500 INTERNAL.
    expect(Object.keys(outcomes).filter((k) => / 5\d\d$/.test(k) && !k.endsWith(' 503'))).toEqual([]);
    expect(Object.entries(outcomes).filter(([k]) => k.endsWith(' 503')).reduce((n, [, v]) => n + v, 0)).toBeGreaterThan(0);
    const rows = await env.db('bookings').whereIn('id', acked.map((x) => x.id)).select('id', 'status');
    expect(rows).toHaveLength(acked.length);
    expect(rows.every((r) => r.status === 'confirmed')).toBe(true);
    const seatRows = await env.db('event_seats').where({ event_id: ev.eventId }).whereIn('seat_id', acked.map((x) => x.seatId)).select('status');
    expect(seatRows.every((s) => s.status === 'booked')).toBe(true);
    // No seat is in two bookings.
    const dup = await env.db('booking_seats as bs').join('bookings as b', 'b.id', 'bs.booking_id').where('b.event_id', ev.eventId).andWhere('b.status', 'confirmed').groupBy('bs.seat_id').havingRaw('count(*) > 1').select('bs.seat_id');
    expect(dup).toEqual([]);
    process.stdout.write(`[fault] MariaDB crash+restart under load: ${beforeCrash} bookings before, ${acked.length} acknowledged in all, ready ${readyAfterMs} ms after restart; outcomes ${JSON.stringify(outcomes)}\n`);
  }, 90000);

  test('restart Redis: nodes stay up, live updates resume, and a client converges through catch-up from its cursor', async () => {
    const [a, b] = children as [ChildNode, ChildNode];
    const [holder, viewer] = await createUsers(env, 2);
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 8 });
    const w = watch(b.url, ev.eventId, { token: viewer!.token });
    try {
      await w.ready;
      // Live across nodes before the fault.
      expect((await call(a.url, 'POST', `/api/events/${ev.eventId}/holds`, holder!.token, { seatIds: [ev.seatIds[0]] })).status).toBe(201);
      await until(() => w.map.seats.get(ev.seatIds[0]!)?.status === 'held', 5000, 'cross-node broadcast before the fault');

      await redis.stop('SIGKILL');
      await until(async () => (await call(a.url, 'GET', '/readyz', '')).status === 503, 5000, 'readyz 503 without Redis');
      const ready = await call(a.url, 'GET', '/readyz', '');
      expect(ready.body.checks.redis).toMatch(/unreachable/);
      // Work goes on without Redis: the database decides, broadcasts may be lost.
      const during = await call(a.url, 'POST', `/api/events/${ev.eventId}/holds`, holder!.token, { seatIds: [ev.seatIds[1], ev.seatIds[2]] });
      expect(during.status).toBe(201);
      await redis.start();
      await until(async () => (await Promise.all(children.map((c) => call(c.url, 'GET', '/readyz', '')))).every((r) => r.status === 200), 20000, 'readyz 200 after Redis restart');
      expect(children.every(alive)).toBe(true);

      // Catch-up from the client's cursor brings it to the database's state, whatever was lost.
      const sync = await send(w.socket, 'seats:sync', { cursor: w.map.cursor });
      expect(sync.ok).toBe(true);
      const dbState = async () => new Map((await env.db('event_seats').where({ event_id: ev.eventId }).select('seat_id', 'status', 'version')).map((r) => [r.seat_id, `${r.status}@${r.version}`]));
      const mapState = () => new Map([...w.map.seats.values()].map((s) => [s.id, `${s.status}@${s.version}`]));
      await until(async () => JSON.stringify([...mapState()]) === JSON.stringify([...(await dbState())]), 5000, 'client map equal to the database after catch-up');

      // And live broadcasts across nodes work again.
      expect((await call(a.url, 'POST', `/api/events/${ev.eventId}/holds`, holder!.token, { seatIds: [ev.seatIds[5]] })).status).toBe(201);
      await until(() => w.map.seats.get(ev.seatIds[5]!)?.status === 'held', 10000, 'cross-node broadcast after the restart');
    } finally {
      w.close();
    }
  }, 60000);

  test('Redis unreachable at start: the node starts, /readyz says redis is unreachable, and turns ready when Redis comes', async () => {
    const late = await privateRedis({ start: false });
    const node = await spawnNode({ ...childEnv, REDIS_URL: late.url });
    try {
      expect((await call(node.url, 'GET', '/healthz', '')).status).toBe(200);
      const r = await call(node.url, 'GET', '/readyz', '');
      expect(r.status).toBe(503);
      expect(r.body.status).toBe('not ready');
      expect(r.body.checks.database).toBe('ok');
      expect(r.body.checks.redis).toMatch(/^unreachable/);
      await late.start();
      await until(async () => (await call(node.url, 'GET', '/readyz', '')).status === 200, 15000, 'ready once Redis is up');
      expect(await stopNode(node)).toEqual({ code: 0, signal: null });
    } finally {
      await stopNode(node, 'SIGKILL');
      await late.stop();
    }
  }, 60000);
});
