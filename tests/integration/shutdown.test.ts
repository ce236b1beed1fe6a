import { createUsers, seedEvent, startTestEnv, TEST_JWT_SECRET, type TestEnv } from '../helpers/env';
import { http, type HttpReply } from '../helpers/http';
import { mysqlDialects, describeEach } from '../helpers/dialects';
import { connect, connectError, until } from '../helpers/sockets';
import { spawnNode, type ChildNode } from '../fault/procs';

/**
 * Graceful shutdown of a real process (`server/entry/main.ts` as a child): SIGTERM while bookings are in flight.
 * Every booking the server acknowledged is in the database, in-flight requests get their answers, sockets
 * are told to reconnect, new work is refused while draining, and the process exits 0.
 */
describeEach(mysqlDialects(), 'graceful shutdown on SIGTERM (%s)', (dialect) => {
  let env: TestEnv;
  let child: ChildNode | undefined;
  beforeAll(async () => {
    env = await startTestEnv({ dialect });
  });
  afterAll(async () => {
    if (child && child.proc.exitCode === null) child.proc.kill('SIGKILL');
    await env.stop();
  });

  test('no acknowledged booking is lost, in-flight requests finish, sockets hear server:reconnect, exit code 0', async () => {
    const BUYERS = 24;
    const users = await createUsers(env, BUYERS);
    const ev = await seedEvent(env, { rows: 3, seatsPerRow: 10 });
    const url = env.config.database.client === 'mysql2' ? env.config.database.url : '';
    child = await spawnNode({
      DATABASE_URL: url,
      JWT_SECRET: TEST_JWT_SECRET,
      // A small pool makes bookings queue inside the process, so SIGTERM lands with work in flight.
      DB_POOL_MAX: '2',
      // The drain window only has to outlast the checks below (readyz, a refused socket); it is not a latency bound.
      SHUTDOWN_DRAIN_MS: '5000',
    });
    const node = child;

    const holds = await Promise.all(
      users.map(async (u, i) => {
        const r = await http(node.url, 'POST', `/api/events/${ev.eventId}/holds`, { token: u.token, body: { seatIds: [ev.seatIds[i]] } });
        expect(r.status).toBe(201);
        return r.body.holdToken as string;
      }),
    );
    const watcher = connect(node.url, ev.eventId, { token: users[0]!.token });
    const reconnectAsked = new Promise<{ reason: string }>((res) => watcher.on('server:reconnect', res));
    await until(() => watcher.connected, 5000, 'watcher connected');

    // Fire every booking at once, and SIGTERM as soon as the first one is acknowledged.
    const outcomes: (HttpReply | Error)[] = new Array(BUYERS);
    let firstAck!: () => void;
    const firstAcked = new Promise<void>((r) => (firstAck = r));
    const bookings = users.map((u, i) =>
      http(node.url, 'POST', '/api/bookings', { token: u.token, headers: { 'Idempotency-Key': `shutdown-${i}-key` }, body: { holdToken: holds[i] } }).then(
        (r) => {
          outcomes[i] = r;
          if (r.status === 201) firstAck();
        },
        (err: Error) => (outcomes[i] = err),
      ),
    );
    await firstAcked;
    node.proc.kill('SIGTERM');

    // Draining: not ready any more, and a new socket is refused, while the requests already taken finish.
    await until(async () => (await http(node.url, 'GET', '/readyz').catch(() => ({ status: 0, body: null }))).status === 503, 4000, 'readyz 503');
    const ready = await http(node.url, 'GET', '/readyz');
    expect(ready.body.checks.process).toBe('shutting down');
    const late = connect(node.url, ev.eventId, { token: users[1]!.token });
    const refused = await connectError(late);
    expect(refused.message).toBeTruthy();
    late.close();

    await Promise.all(bookings);
    const exit = await child.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(await reconnectAsked).toEqual({ reason: 'server shutting down' });
    watcher.close();

    // Every booking request was sent before SIGTERM, so every one of them is answered 201.
    const statuses = outcomes.map((o) => (o instanceof Error ? `error: ${o.message}` : o.status));
    expect(statuses).toEqual(new Array(BUYERS).fill(201));
    const acked = outcomes.filter((o): o is HttpReply => !(o instanceof Error) && o.status === 201).map((o) => o.body);
    for (const b of acked) {
      const row = await env.db('bookings').where({ id: b.id }).first('status', 'event_id');
      expect(row).toMatchObject({ status: 'confirmed', event_id: ev.eventId });
    }
    const booked = await env.db('event_seats').where({ event_id: ev.eventId, status: 'booked' }).count({ n: '*' });
    expect(Number(booked[0]!.n)).toBe(acked.length);
    expect(child.output()).not.toMatch(/shutdown failed|took too long/);
  });
});
