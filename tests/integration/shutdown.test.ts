import { createUsers, seedEvent, startTestEnv, TEST_JWT_SECRET, type TestEnv } from '../helpers/env';
import { http, type HttpReply } from '../helpers/http';
import { mysqlDialects, describeEach } from '../helpers/dialects';
import { connect, connectError, connected, until } from '../helpers/sockets';
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

/**
 * Closing a node on Redis (in process) while a broadcast is still on its way. With the Redis adapter an emit is a
 * PUBLISH that the adapter does not await: issued after the node disconnected Redis, ioredis rejects it with
 * "Connection is closed." and nobody handles the rejection, which failed a whole test file ("Test suite failed to
 * run"). The staff batch was such an emit: a database read (who holds each seat), then the emit. Seat batches,
 * staff ones included, now go to the node's own sockets, and the commit's relay to the other nodes is the
 * PUBLISH; the staff read still outlasts the start of the shutdown here.
 */
describeEach(mysqlDialects(), 'closing a node on Redis with a staff batch in flight (%s)', (dialect) => {
  test('the change is relayed before Redis is closed, and no PUBLISH is refused', async () => {
    const env = await startTestEnv({ dialect, redis: true });
    const node = env.nodes[0]!;
    const redis = node.redis!;
    // The holder read finishes once the node moves on to closing Redis (a read that outlasts the drain), or
    // 300 ms into the shutdown when the node waits for it.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const closeRedis = redis.close.bind(redis);
    redis.close = () => {
      release();
      return closeRedis();
    };
    let reads = 0;
    const staffView = node.services.staffView;
    const withHolders = staffView.withHolders.bind(staffView);
    staffView.withHolders = async (...args: Parameters<typeof withHolders>) => {
      reads++;
      const seats = await withHolders(...args);
      await released;
      return seats;
    };
    // Every PUBLISH of the node and how it ended (handling it here also keeps a refusal from going unhandled).
    const pub = redis.redis;
    const publish = pub.publish.bind(pub) as (channel: string, message: string | Buffer) => Promise<number>;
    const outcomes: Promise<string>[] = [];
    (pub as unknown as { publish: typeof publish }).publish = (channel, message) => {
      const p = publish(channel, message);
      outcomes.push(p.then(() => `${channel.includes(':relay#') ? 'relay' : 'other'}: ok`, (err: Error) => `${channel}: ${err.message}`));
      return p;
    };

    const [user] = await createUsers(env, 1);
    const [clerk] = await createUsers(env, 1, 'box_office');
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 4 });
    // A box office socket on the node: its batches need the holder read.
    const staff = await connected(connect(node.url, ev.eventId, { token: clerk!.token }));
    const hold = await http(node.url, 'POST', `/api/events/${ev.eventId}/holds`, { token: user!.token, body: { seatIds: [ev.seatIds[0]] } });
    expect(hold.status).toBe(201);
    await until(() => reads > 0, 5000, 'the staff read started');
    const stopped = env.stop();
    setTimeout(release, 300).unref();
    await stopped;
    await until(() => pub.status === 'end', 5000, 'redis closed');

    const results = await Promise.all(outcomes);
    expect(results.filter((r) => !r.endsWith(': ok'))).toEqual([]);
    expect(results).toContain('relay: ok');
    staff.close();
  });
});
