import { WebhookDispatcher } from '../../server/webhooks/dispatcher';
import { createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { WebhookReceiver } from '../helpers/webhook-receiver';

/**
 * Webhooks never reach the internal network unless WEBHOOK_ALLOW_PRIVATE_TARGETS is set: the admin API refuses
 * private and reserved address literals and localhost, and the dispatcher refuses them at send time too (an
 * endpoint stored while the setting was on, or a name that resolves there).
 */
describe('webhook targets on the internal network are refused (sqlite)', () => {
  let env: TestEnv;
  let admin: { token: string };
  const receiver = new WebhookReceiver();

  beforeAll(async () => {
    env = await startTestEnv({ dialect: 'sqlite', sweeper: false, env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false' } });
    await receiver.up();
    [admin] = await createUsers(env, 1, 'admin');
  });
  afterAll(async () => {
    await receiver.down();
    await env.stop();
  });

  const register = (url: string) => http(env.nodes[0]!.url, 'POST', '/api/admin/webhooks', { token: admin.token, body: { url, eventTypes: ['event.status_changed'] } });

  it.each(['http://127.0.0.1:9/hook', 'http://localhost/hook', 'http://[::1]/hook', 'http://169.254.169.254/latest/meta-data', 'https://10.0.0.5/hook', 'http://192.168.1.10:8080/x'])(
    'When an admin registers %s, then it is refused with WEBHOOK_URL_PRIVATE and nothing is stored',
    async (url) => {
      const before = await env.db('webhook_endpoints').count<{ n: number }[]>({ n: '*' });
      const res = await register(url);
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('WEBHOOK_URL_PRIVATE');
      expect(await env.db('webhook_endpoints').count<{ n: number }[]>({ n: '*' })).toEqual(before);
    },
  );

  it('When an endpoint is changed to a private address, then the change is refused and the endpoint kept', async () => {
    const created = await register('https://hooks.example.com/evently');
    expect(created.status).toBe(201);
    const moved = await http(env.nodes[0]!.url, 'PATCH', `/api/admin/webhooks/${created.body.id}`, { token: admin.token, body: { url: 'http://127.0.0.1/x' } });
    expect(moved.status).toBe(422);
    expect(moved.body.error.code).toBe('WEBHOOK_URL_PRIVATE');
    expect((await env.db('webhook_endpoints').where({ id: created.body.id }).first()).url).toBe('https://hooks.example.com/evently');
    await env.db('webhook_endpoints').where({ id: created.body.id }).update({ enabled: false });
  });

  it('When an endpoint on a private address is already stored, then the dispatcher does not send to it and logs why', async () => {
    // As if registered while WEBHOOK_ALLOW_PRIVATE_TARGETS was on.
    const now = env.clock.now();
    const [id] = await env.db('webhook_endpoints').insert({ url: receiver.url, secret: 'x'.repeat(32), event_types: JSON.stringify(['event.status_changed']), enabled: true, description: null, version: 1, created_at: now, updated_at: now });
    // Putting a draft on sale writes event.status_changed to the outbox.
    const { eventId } = await seedEvent(env, { status: 'draft' });
    const ev = await http(env.nodes[0]!.url, 'GET', `/api/admin/events/${eventId}`, { token: admin.token });
    const moved = await http(env.nodes[0]!.url, 'PATCH', `/api/admin/events/${eventId}`, { token: admin.token, body: { status: 'on_sale' }, headers: { 'If-Match': ev.headers.get('etag')! } });
    expect(moved.status).toBe(200);
    const d = new WebhookDispatcher({ db: env.nodes[0]!.db, clock: env.clock, batchSize: 10, timeoutMs: 2000 });
    try {
      const before = receiver.received.length;
      expect(await d.tick()).toMatchObject({ delivered: 0 });
      expect(receiver.received.length).toBe(before);
      const log = (await http(env.nodes[0]!.url, 'GET', `/api/admin/webhooks/${Number(id)}/deliveries`, { token: admin.token })).body.items;
      expect(log.length).toBeGreaterThan(0);
      expect(log[0].lastError).toMatch(/EPRIVATETARGET/);
    } finally {
      await d.stop();
    }
  });
});
