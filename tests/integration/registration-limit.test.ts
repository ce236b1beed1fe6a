import { describeEach, mysqlDialects } from '../helpers/dialects';
import { startTestEnv, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';

/**
 * Issue 16, item 2 (the registration half; the per-IP cap on held seats is the inventory core's): one client IP
 * may register only RATE_LIMIT_REGISTER_PER_IP accounts per window, counted across nodes through Redis.
 */
describeEach(mysqlDialects(), 'registration throttled per IP (%s, 2 nodes, Redis)', (dialect) => {
  let env: TestEnv;
  let off: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ dialect, nodes: 2, redis: true, env: { RATE_LIMIT_REGISTER_PER_IP: '3', RATE_LIMIT_REGISTER_WINDOW_SECONDS: '600' } });
    off = await startTestEnv({ dialect, nodes: 1, redis: true, env: { RATE_LIMIT_REGISTER_PER_IP: '0' } });
  });
  afterAll(async () => {
    await env.stop();
    await off.stop();
  });

  const register = (url: string, i: number, tag: string) =>
    http(url, 'POST', '/api/auth/register', { body: { email: `${tag}-${i}@example.com`, password: 'password-123', name: `R ${i}` } });

  it('When one IP registers past the limit on either node, then 429 RATE_LIMITED with Retry-After, no account, and a metric', async () => {
    const [n0, n1] = env.nodes.map((n) => n.url) as [string, string];
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await register(i % 2 ? n1 : n0, i, 'spree')).status);
    expect(statuses).toEqual([201, 201, 201]);
    for (const url of [n0, n1]) {
      const refused = await register(url, 9, 'spree');
      expect([refused.status, refused.body.error.code]).toEqual([429, 'RATE_LIMITED']);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    const [{ n }] = await env.db('users').where('email', 'like', 'spree-%').count({ n: '*' });
    expect(Number(n)).toBe(3);
    // Sign-in and everything else stay open to that IP.
    expect((await http(n1, 'POST', '/api/auth/login', { body: { email: 'spree-0@example.com', password: 'password-123' } })).status).toBe(200);
    const metrics = await Promise.all([n0, n1].map(async (u) => (await http(u, 'GET', '/metrics')).body as string));
    const count = (text: string) => Number(/evently_rate_limited_total\{limit="register"\} (\d+)/.exec(text)?.[1] ?? 0);
    expect(metrics.map(count)).toEqual([1, 1]);
  });

  it('When the limit is 0, then registration is not throttled', async () => {
    const statuses = [];
    for (let i = 0; i < 25; i++) statuses.push((await register(off.nodes[0]!.url, i, 'unthrottled')).status);
    expect(new Set(statuses)).toEqual(new Set([201]));
  });
});
