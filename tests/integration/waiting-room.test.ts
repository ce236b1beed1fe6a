import { io as ioc } from 'socket.io-client';
import { seededRandom } from '../../server/queue/random';
import type { QueueAdmitted, QueueProgress } from '../../packages/client/src';
import { describeEach, mysqlAvailable } from '../helpers/dialects';
import { createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { connect, connected, send, until, type ClientSocket } from '../helpers/sockets';
import { seedWaitingRoom } from '../helpers/waiting-room';

/**
 * The waiting room end to end on one node: configuration over the admin API, the `/queue/<id>` socket and its REST
 * equivalents, the gate in front of holds, admission on booking and on the end of a shopping window. Run with the
 * in-memory line (SQLite, no Redis) and with the Redis line (MariaDB + Redis). Time moves with the shared clock;
 * `tickAll()` runs a tick now instead of waiting for the ticker.
 */
const cases = [{ dialect: 'sqlite' as const, redis: false }, ...(mysqlAvailable() ? [{ dialect: 'mysql' as const, redis: true }] : [])];
const MIN = 60_000;

describeEach(cases, 'Waiting room ($dialect, redis: $redis)', ({ dialect, redis }) => {
  let env: TestEnv;
  const sockets: { close(): void }[] = [];
  beforeAll(async () => {
    // No background ticker: each test ticks when it means to (the two-node test runs with it).
    env = await startTestEnv({ dialect, redis, queueRandom: seededRandom(7), sweeper: false });
  }, 60_000);
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });
  afterAll(() => env?.stop(), 60_000);

  const url = () => env.nodes[0]!.url;
  const iso = (ms: number) => new Date(env.clock.now() + ms).toISOString();
  const queueSocket = async (eventId: number, token: string): Promise<ClientSocket> => {
    const s = ioc(`${url()}/queue/${eventId}`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true }) as unknown as ClientSocket;
    sockets.push(s);
    return connected(s);
  };
  const setup = (config: Record<string, unknown>) => seedWaitingRoom(env, config);
  const tick = () => env.nodes[0]!.services.queue.tickAll();

  it('When the configuration is bad, then the admin API answers VALIDATION_FAILED naming the field and stores nothing', async () => {
    const event = await seedEvent(env);
    const [admin] = await createUsers(env, 1, 'admin');
    const [buyer] = await createUsers(env, 1);
    const put = (body: unknown, token = admin!.token, id = event.eventId) => http(url(), 'PUT', `/api/admin/events/${id}/queue`, { token, body });
    const good = { enabled: true, opensAt: iso(0), saleStartsAt: iso(MIN), maxActive: 10 };
    const bad = [
      [{ ...good, opensAt: iso(2 * MIN) }, 'opensAt'],
      [{ ...good, maxActive: undefined }, 'maxActive'],
      [{ ...good, maxActive: 0 }, 'maxActive'],
      [{ ...good, windowSeconds: 5 }, 'windowSeconds'],
      [{ ...good, saleStartsAt: 'tomorrow' }, 'saleStartsAt'],
      [{ ...good, position: 1 }, ''],
    ] as const;
    for (const [body, field] of bad) {
      const res = await put(body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      if (field) expect(JSON.stringify(res.body.error.details)).toContain(field);
    }
    expect((await put(good, buyer!.token)).status).toBe(403);
    expect((await put(good, admin!.token, 999_999)).body.error.code).toBe('EVENT_NOT_FOUND');
    expect((await http(url(), 'GET', `/api/admin/events/${event.eventId}/queue`, { token: admin!.token })).body.error.code).toBe('QUEUE_NOT_CONFIGURED');
    const ok = await put(good);
    expect(ok.body).toMatchObject({ eventId: event.eventId, enabled: true, maxActive: 10, admitPerMinute: null, windowSeconds: 600 });
  });

  it('When the waiting room is on, then holds without admission answer NOT_ADMITTED (REST, socket, best, GA) and staff bypass it', async () => {
    const { event, admin } = await setup({ maxActive: 5 });
    const [buyer] = await createUsers(env, 1);
    const rest = await http(url(), 'POST', `/api/events/${event.eventId}/holds`, { token: buyer!.token, body: { seatIds: [event.seatIds[0]] } });
    expect(rest.status).toBe(403);
    expect(rest.body.error).toMatchObject({ code: 'NOT_ADMITTED', details: { eventId: event.eventId } });
    const best = await http(url(), 'POST', `/api/events/${event.eventId}/holds/best`, { token: buyer!.token, body: { quantity: 1 } });
    expect(best.body.error.code).toBe('NOT_ADMITTED');
    const s = connect(url(), event.eventId, { token: buyer!.token });
    sockets.push(s);
    const ack = await send(s, 'seat:hold', { seatIds: [event.seatIds[1]!] });
    expect(ack).toMatchObject({ ok: false, error: { code: 'NOT_ADMITTED' } });
    const staff = await http(url(), 'POST', `/api/events/${event.eventId}/holds`, { token: admin.token, body: { seatIds: [event.seatIds[2]] } });
    expect(staff.status).toBe(201);
    expect(await env.db('event_seats').where({ event_id: event.eventId, status: 'held' }).count({ n: '*' })).toEqual([{ n: 1 }]);
  });

  it('When two buyers wait for one slot, then the admitted one may hold; booking admits the next, who is told on its socket', async () => {
    const { event } = await setup({ maxActive: 1 });
    const [a, b] = await createUsers(env, 2);
    const sa = await queueSocket(event.eventId, a!.token);
    const sb = await queueSocket(event.eventId, b!.token);
    expect(await send(sa, 'queue:join', {})).toMatchObject({ ok: true, data: { state: 'lobby', ticket: null } });
    expect(await send(sb, 'queue:join', {})).toMatchObject({ ok: true, data: { state: 'lobby' } });
    const admitted: Record<string, QueueAdmitted[]> = { a: [], b: [] };
    const progress: Record<string, QueueProgress[]> = { a: [], b: [] };
    sa.on('queue:admitted', (n) => admitted.a!.push(n));
    sb.on('queue:admitted', (n) => admitted.b!.push(n));
    sa.on('queue:progress', (p) => progress.a!.push(p));
    sb.on('queue:progress', (p) => progress.b!.push(p));

    env.clock.advance(2 * MIN);
    await tick();
    await until(() => admitted.a!.length + admitted.b!.length === 1, 5000, 'one admission notice');
    const [first, second] = admitted.a!.length ? [a!, b!] : [b!, a!];
    const [secondSocket, secondProgress] = admitted.a!.length ? [sb, progress.b!] : [sa, progress.a!];
    // The one still in line hears that the head moved: its position is its ticket (2) minus head (1).
    await until(() => secondProgress.some((p) => p.head === 1 && p.drawn && p.waiting === 1), 5000, 'a progress message');
    const waiting = await send(secondSocket, 'queue:status', {});
    expect(waiting).toMatchObject({ ok: true, data: { state: 'waiting', ticket: 2, position: 1, line: { head: 1, drawn: true } } });
    expect((waiting as { data: { estimatedWaitSeconds: number } }).data.estimatedWaitSeconds).toBeGreaterThan(0);

    const refused = await http(url(), 'POST', `/api/events/${event.eventId}/holds`, { token: second.token, body: { seatIds: [event.seatIds[0]] } });
    expect(refused.body.error.code).toBe('NOT_ADMITTED');
    const hold = await http(url(), 'POST', `/api/events/${event.eventId}/holds`, { token: first.token, body: { seatIds: [event.seatIds[0]] } });
    expect(hold.status).toBe(201);
    const booked = await http(url(), 'POST', '/api/bookings', { token: first.token, body: { holdToken: hold.body.holdToken }, headers: { 'idempotency-key': `key-${event.eventId}-booking` } });
    expect(booked.status).toBe(201);
    // The booking hands the slot on at once (no tick needed), and the notice reaches the second buyer's socket.
    await until(() => admitted.a!.length + admitted.b!.length === 2, 5000, 'the second admission notice');
    expect((await http(url(), 'GET', `/api/events/${event.eventId}/queue`, { token: first.token })).body).toMatchObject({ state: 'done', doneReason: 'booked' });
    const hold2 = await http(url(), 'POST', `/api/events/${event.eventId}/holds`, { token: second.token, body: { seatIds: [event.seatIds[1]] } });
    expect(hold2.status).toBe(201);
  });

  it('When ticks of one event overlap on a node, then each admission is announced exactly once', async () => {
    const { event } = await setup({ maxActive: 5 });
    const users = await createUsers(env, 5);
    const notices = new Map<number, number>();
    for (const u of users) {
      const s = await queueSocket(event.eventId, u.token);
      s.on('queue:admitted', () => notices.set(u.id, (notices.get(u.id) ?? 0) + 1));
      expect(await send(s, 'queue:join', {})).toMatchObject({ ok: true });
    }
    env.clock.advance(2 * MIN);
    const queue = env.nodes[0]!.services.queue;
    await Promise.all([queue.tickAll(), queue.tick(event.eventId), queue.tick(event.eventId), queue.tick(event.eventId)]);
    await Promise.all([queue.tick(event.eventId), queue.tick(event.eventId)]);
    await until(() => notices.size === 5, 5000, 'five admission notices');
    // A round trip on every socket: anything still in flight has arrived by now.
    await tick();
    expect([...notices.values()]).toEqual([1, 1, 1, 1, 1]);
  });

  it('When a shopping window ends, then its buyer can no longer hold and the slot passes to the next in line', async () => {
    const { event } = await setup({ maxActive: 1, windowSeconds: 120 });
    const [a, b] = await createUsers(env, 2);
    env.clock.advance(2 * MIN);
    expect((await http(url(), 'POST', `/api/events/${event.eventId}/queue`, { token: a!.token })).body).toMatchObject({ state: 'waiting', ticket: 1, position: 1 });
    expect((await http(url(), 'POST', `/api/events/${event.eventId}/queue`, { token: b!.token })).body).toMatchObject({ state: 'waiting', ticket: 2, position: 2 });
    await tick();
    expect((await http(url(), 'GET', `/api/events/${event.eventId}/queue`, { token: a!.token })).body.state).toBe('admitted');
    expect((await http(url(), 'POST', `/api/events/${event.eventId}/holds`, { token: a!.token, body: { seatIds: [event.seatIds[0]] } })).status).toBe(201);

    env.clock.advance(121_000);
    expect((await http(url(), 'POST', `/api/events/${event.eventId}/holds`, { token: a!.token, body: { seatIds: [event.seatIds[1]] } })).body.error.code).toBe('NOT_ADMITTED');
    await tick();
    expect((await http(url(), 'GET', `/api/events/${event.eventId}/queue`, { token: a!.token })).body).toMatchObject({ state: 'done', doneReason: 'expired' });
    expect((await http(url(), 'GET', `/api/events/${event.eventId}/queue`, { token: b!.token })).body.state).toBe('admitted');
    expect((await http(url(), 'POST', `/api/events/${event.eventId}/holds`, { token: b!.token, body: { seatIds: [event.seatIds[1]] } })).status).toBe(201);
  });

  it('When a buyer reconnects or opens a second socket, then it keeps its one place; it cannot move itself forward', async () => {
    const { event } = await setup({ maxActive: 1 });
    const users = await createUsers(env, 3);
    env.clock.advance(2 * MIN);
    for (const u of users) await http(url(), 'POST', `/api/events/${event.eventId}/queue`, { token: u.token });
    const s1 = await queueSocket(event.eventId, users[2]!.token);
    const first = (await send(s1, 'queue:join', {})) as { ok: true; data: { ticket: number } };
    expect(first.data.ticket).toBe(3);
    s1.close();
    const s2 = await queueSocket(event.eventId, users[2]!.token);
    const s3 = await queueSocket(event.eventId, users[2]!.token);
    expect(await send(s2, 'queue:join', {})).toMatchObject({ ok: true, data: { ticket: 3 } });
    expect(await send(s3, 'queue:join', {})).toMatchObject({ ok: true, data: { ticket: 3, line: { waiting: 3 } } });
    expect((await http(url(), 'GET', `/api/events/${event.eventId}/queue`, { token: users[2]!.token })).body).toMatchObject({ state: 'waiting', ticket: 3, position: 3 });
    // Only empty payloads are accepted: no way to name a ticket or a position.
    expect(await send(s2, 'queue:join', { ticket: 1 } as never)).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    // Leaving and coming back goes to the back of the line.
    expect(await send(s2, 'queue:leave', {})).toMatchObject({ ok: true, data: { state: 'done', doneReason: 'left' } });
    expect(await send(s3, 'queue:join', {})).toMatchObject({ ok: true, data: { ticket: 4 } });
  });

  it('When a queue socket has no token or a bad one, or the event is unknown, then the handshake is refused with a clear code', async () => {
    const { event } = await setup({ maxActive: 1 });
    const refused = (path: string, auth: object) =>
      new Promise<{ data?: { code: string } }>((resolve) => {
        const s = ioc(`${url()}${path}`, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
        sockets.push(s);
        s.on('connect_error', (err) => resolve(err as never));
      });
    expect((await refused(`/queue/${event.eventId}`, {})).data?.code).toBe('VALIDATION_FAILED');
    expect((await refused(`/queue/${event.eventId}`, { token: 'nope' })).data?.code).toBe('INVALID_TOKEN');
    const [u] = await createUsers(env, 1);
    expect((await refused('/queue/999999', { token: u!.token })).data?.code).toBe('EVENT_NOT_FOUND');
  });

  it('When the waiting room is off, then join answers state off and holds need no admission; metrics show the line', async () => {
    const { event, admin } = await setup({ maxActive: 1 });
    const [u] = await createUsers(env, 1);
    env.clock.advance(2 * MIN);
    await http(url(), 'POST', `/api/events/${event.eventId}/queue`, { token: u!.token });
    await tick();
    const metrics = await (await fetch(`${url()}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`evently_queue_admissions_total\\{event="${event.eventId}"\\} 1`));
    expect(metrics).toMatch(new RegExp(`evently_queue_active\\{event="${event.eventId}"\\} 1`));
    const view = await http(url(), 'GET', `/api/admin/events/${event.eventId}/queue`, { token: admin.token });
    expect(view.body).toMatchObject({ enabled: true, line: { active: 1, admitted: 1, waiting: 0, drawn: true } });
    await http(url(), 'PUT', `/api/admin/events/${event.eventId}/queue`, { token: admin.token, body: { enabled: false, opensAt: iso(0), saleStartsAt: iso(0), maxActive: 1 } });
    const [v] = await createUsers(env, 1);
    expect((await http(url(), 'POST', `/api/events/${event.eventId}/queue`, { token: v!.token })).body.state).toBe('off');
    expect((await http(url(), 'POST', `/api/events/${event.eventId}/holds`, { token: v!.token, body: { seatIds: [event.seatIds[5]] } })).status).toBe(201);
  });

  it('When the queue has not opened yet, then join answers QUEUE_NOT_OPEN with the opening time', async () => {
    const { event } = await setup({ maxActive: 1, opensAt: iso(30 * MIN), saleStartsAt: iso(40 * MIN) });
    const [u] = await createUsers(env, 1);
    const res = await http(url(), 'POST', `/api/events/${event.eventId}/queue`, { token: u!.token });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'QUEUE_NOT_OPEN', details: { opensAt: expect.any(String) } });
  });
});
