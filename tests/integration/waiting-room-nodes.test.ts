import { io as ioc } from 'socket.io-client';
import { startNode } from '../../server/entry/node';
import type { QueueAdmitted } from '../../packages/client/src';
import { createLogger } from '../../server/shared/logger';
import { describeEach, mysqlDialects } from '../helpers/dialects';
import { createUsers, startTestEnv, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { send, until, type ClientSocket } from '../helpers/sockets';
import { seedWaitingRoom } from '../helpers/waiting-room';

/**
 * Two nodes sharing MariaDB and Redis: the line is one line. Concurrent ticks, joins, holds and bookings on both
 * nodes never put more buyers in the shop than maxActive; an admission made by one node reaches a socket on the
 * other; the line survives a node restart.
 */
describeEach(mysqlDialects(), 'Waiting room across 2 nodes (%s + Redis)', (dialect) => {
  let env: TestEnv;
  const sockets: { close(): void }[] = [];
  beforeAll(async () => {
    env = await startTestEnv({ dialect, nodes: 2, redis: true, poolMax: 4 });
  }, 60_000);
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });
  afterAll(() => env?.stop(), 60_000);

  const iso = (ms: number) => new Date(env.clock.now() + ms).toISOString();
  const node = (i: number) => env.nodes[i]!;
  const setup = async (maxActive: number) =>
    (await seedWaitingRoom(env, { saleStartsAt: iso(-1), maxActive }, { rows: 10, seatsPerRow: 20, maxSeatsPerUser: 2 })).event;

  it('When 60 buyers on both nodes race through holds, bookings and ticks, then never more than maxActive (3) can hold at once', async () => {
    const event = await setup(3);
    const buyers = await createUsers(env, 60);
    await Promise.all(buyers.map((b, i) => http(node(i % 2).url, 'POST', `/api/events/${event.eventId}/queue`, { token: b.token })));
    const everAdmitted = new Set<number>();
    for (let round = 0; round < 25 && everAdmitted.size < 60; round++) {
      // Both nodes tick at once, several times: the store's atomic tick must not over-admit.
      await Promise.all([0, 1, 0, 1, 0, 1].map((i) => node(i).services.queue.tickAll()));
      const allowed = await Promise.all(buyers.map((b) => node(0).services.queue.assertMayHold({ id: b.id, role: 'user' } as never, event.eventId).then(() => true, () => false)));
      const inShop = buyers.filter((_, i) => allowed[i]);
      expect(inShop.length).toBeLessThanOrEqual(3);
      for (const b of inShop) everAdmitted.add(b.id);
      // Every buyer tries to hold, on alternating nodes: only those admitted succeed.
      const holds = await Promise.all(
        buyers.map((b, i) => http(node((i + round) % 2).url, 'POST', `/api/events/${event.eventId}/holds`, { token: b.token, body: { seatIds: [event.seatIds[i]] } })),
      );
      const holders = buyers.filter((_, i) => holds[i]!.status === 201);
      for (const h of holds) if (h.status !== 201) expect(['NOT_ADMITTED', 'SEAT_UNAVAILABLE']).toContain(h.body.error.code);
      expect(holders.length).toBeLessThanOrEqual(3);
      expect(holders.map((h) => h.id).sort()).toEqual(inShop.map((b) => b.id).sort());
      // The holders book on the other node, or (every third) leave: their slots pass on.
      const finished = await Promise.all(
        holders.map((h, i) => {
          const hold = holds[buyers.indexOf(h)]!.body;
          return i % 3 === 2
            ? http(node(round % 2).url, 'DELETE', `/api/events/${event.eventId}/queue`, { token: h.token })
            : http(node((round + 1) % 2).url, 'POST', '/api/bookings', { token: h.token, body: { holdToken: hold.holdToken }, headers: { 'idempotency-key': `booking-key-${event.eventId}-${h.id}` } });
        }),
      );
      for (const f of finished) expect(f.status).toBeLessThan(300);
    }
    expect(everAdmitted.size).toBe(60);
  });

  it('When node 0 admits a buyer whose socket is on node 1, then that socket is told; the line survives a node restart', async () => {
    const event = await setup(1);
    const [a, b] = await createUsers(env, 2);
    await http(node(0).url, 'POST', `/api/events/${event.eventId}/queue`, { token: a!.token });
    const s = ioc(`${node(1).url}/queue/${event.eventId}`, { auth: { token: b!.token }, transports: ['websocket'], reconnection: false, forceNew: true }) as unknown as ClientSocket;
    sockets.push(s);
    const notices: QueueAdmitted[] = [];
    s.on('queue:admitted', (n) => notices.push(n));
    expect(await send(s, 'queue:join', {})).toMatchObject({ ok: true, data: { state: 'waiting', ticket: 2 } });
    await node(0).services.queue.tickAll();
    await node(1).services.queue.tickAll();

    // A node that starts now (a restart) sees the same line in Redis.
    const fresh = await startNode(env.config, { clock: env.clock, logger: createLogger('silent'), skipMigrations: true, sweeper: false });
    try {
      const seen = await http(fresh.url, 'GET', `/api/events/${event.eventId}/queue`, { token: b!.token });
      expect(seen.body).toMatchObject({ state: 'waiting', ticket: 2, position: 1 });
    } finally {
      await fresh.close();
    }

    // a leaves through node 0; node 0 admits b at once; node 1's next tick reads the admission log and tells b.
    await http(node(0).url, 'DELETE', `/api/events/${event.eventId}/queue`, { token: a!.token });
    await until(async () => {
      await node(1).services.queue.tickAll();
      return notices.length === 1;
    }, 5000, 'the admission notice on node 1');
    expect(Date.parse(notices[0]!.admittedUntil)).toBeGreaterThan(env.clock.now());
    expect((await http(node(1).url, 'POST', `/api/events/${event.eventId}/holds`, { token: b!.token, body: { seatIds: [event.seatIds[0]] } })).status).toBe(201);
  });
});
