import { createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';
import { http, type HttpReply } from '../helpers/http';
import { connect, send, until, type ClientSocket } from '../helpers/sockets';
import { describeEach, mysqlDialects } from '../helpers/dialects';

/**
 * Rate limits: REST per client, failed sign-ins per email+IP, socket hold attempts per user. With Redis the
 * budget is shared: two nodes behind one Redis must not double it.
 */
const TIGHT = {
  RATE_LIMIT_REST_PER_MINUTE: '10',
  RATE_LIMIT_LOGIN_FAILURES: '3',
  RATE_LIMIT_HOLD_PER_SECOND: '2',
};

describeEach([
  ...mysqlDialects().map((d) => ({ dialect: d, redis: true, nodes: 2 })),
  { dialect: 'sqlite' as const, redis: false, nodes: 1 },
], 'rate limits ($dialect, redis=$redis, $nodes nodes)', ({ dialect, redis, nodes }) => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ dialect, redis, nodes, env: TIGHT });
  });
  afterAll(async () => {
    await env.stop();
  });
  const node = (i: number) => env.nodes[i % env.nodes.length]!;

  test('REST requests per user: the budget is shared by every node, then 429 with Retry-After', async () => {
    const [alice, bob] = await createUsers(env, 2);
    const statuses: number[] = [];
    let limited: HttpReply | undefined;
    for (let i = 0; i < 20; i++) {
      const r = await http(node(i).url, 'GET', '/api/me', { token: alice!.token });
      statuses.push(r.status);
      if (r.status === 429) limited ??= r;
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
    expect(limited!.body.error.code).toBe('RATE_LIMITED');
    const retryAfter = Number(limited!.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Another user has a budget of their own.
    expect((await http(node(1).url, 'GET', '/api/me', { token: bob!.token })).status).toBe(200);
    // /metrics counts the refusals on the node that refused.
    const text = (await http(node(0).url, 'GET', '/metrics')).body as string;
    expect(text).toMatch(/evently_errors_total\{transport="rest",code="RATE_LIMITED"\} [1-9]/);
  });

  test('failed sign-ins per email+IP: after 3 failures even the right password is refused; nothing else is', async () => {
    const [carol, dave] = await createUsers(env, 2);
    for (let i = 0; i < 3; i++) {
      const r = await http(node(i).url, 'POST', '/api/auth/login', { body: { email: carol!.email, password: 'wrong-password-1' } });
      expect(r.status).toBe(401);
    }
    const refused = await http(node(1).url, 'POST', '/api/auth/login', { body: { email: carol!.email, password: 'password-123' } });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('RATE_LIMITED');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // Successful sign-ins do not use up the budget.
    for (let i = 0; i < 4; i++) {
      const ok = await http(node(i).url, 'POST', '/api/auth/login', { body: { email: dave!.email, password: 'password-123' } });
      expect(ok.status).toBe(200);
    }
  });

  test('seat:hold attempts per user per second are shared across nodes; refused holds change nothing', async () => {
    const [erin] = await createUsers(env, 1);
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 10 });
    const sockets: ClientSocket[] = env.nodes.map((n) => connect(n.url, ev.eventId, { token: erin!.token }));
    try {
      await until(() => sockets.every((s) => s.connected), 5000, 'sockets connected');
      const acks = await Promise.all(ev.seatIds.slice(0, 6).map((seatId, i) => send(sockets[i % sockets.length]!, 'seat:hold', { seatIds: [seatId] })));
      const ok = acks.filter((a) => a.ok);
      const limited = acks.filter((a) => !a.ok && a.error.code === 'RATE_LIMITED');
      expect(ok.length + limited.length).toBe(6);
      expect(ok.length).toBeGreaterThanOrEqual(1);
      expect(ok.length).toBeLessThanOrEqual(2);
      const held = await env.db('event_seats').where({ event_id: ev.eventId, status: 'held' }).count({ n: '*' });
      expect(Number(held[0]!.n)).toBe(ok.length);
    } finally {
      sockets.forEach((s) => s.close());
    }
  });

  test('REST hold attempts share the per-user hold budget; a refused hold changes nothing', async () => {
    const [frank] = await createUsers(env, 1);
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 6 });
    const replies = await Promise.all(
      ev.seatIds.slice(0, 5).map((seatId, i) => http(node(i).url, 'POST', `/api/events/${ev.eventId}/holds`, { token: frank!.token, body: { seatIds: [seatId] } })),
    );
    const created = replies.filter((r) => r.status === 201).length;
    expect(created).toBeGreaterThanOrEqual(1);
    expect(created).toBeLessThanOrEqual(2);
    expect(replies.filter((r) => r.status === 429)).toHaveLength(5 - created);
    const held = await env.db('event_seats').where({ event_id: ev.eventId, status: 'held' }).count({ n: '*' });
    expect(Number(held[0]!.n)).toBe(created);
  });
});
