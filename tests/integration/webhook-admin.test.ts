import { randomUUID } from 'node:crypto';
import { MAX_ENDPOINTS } from '../../server/contracts/webhooks';
import { describeEach, testDialects } from '../helpers/dialects';
import { createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { until } from '../helpers/sockets';
import { WebhookReceiver } from '../helpers/webhook-receiver';

/**
 * The webhook admin API (validation, secrets, enable/disable, delete, the endpoint cap, redelivery errors) and a
 * node's own dispatcher (WEBHOOKS_DISPATCHER on, polling): it delivers and counts what it did in /metrics.
 */
describeEach(testDialects(), 'webhook admin API on %s', (dialect) => {
  let env: TestEnv;
  let admin: { token: string };
  let clerk: { token: string };
  const receiver = new WebhookReceiver();

  beforeAll(async () => {
    env = await startTestEnv({ dialect, sweeper: false, env: { WEBHOOKS_DISPATCHER: 'true', WEBHOOK_POLL_INTERVAL_MS: '50' } });
    [admin] = await createUsers(env, 1, 'admin');
    [clerk] = await createUsers(env, 1, 'box_office');
    await receiver.up();
  });
  afterAll(async () => {
    await env.stop();
    await receiver.down();
  });

  const api = (method: string, path: string, body?: unknown, token = admin.token) => http(env.nodes[0]!.url, method, `/api/admin/webhooks${path}`, { token, body });
  const paths = (res: { body: { error: { details?: { path: string }[] } } }) => (res.body.error.details ?? []).map((d) => d.path);

  it('When an endpoint is registered, then its secret is shown once and never again', async () => {
    const created = await api('POST', '', { url: receiver.url, eventTypes: ['booking.confirmed'], description: 'CRM' });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(created.body).toMatchObject({ url: receiver.url, eventTypes: ['booking.confirmed'], enabled: true, description: 'CRM', secretHint: `…${created.body.secret.slice(-4)}` });
    const read = await api('GET', `/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(JSON.stringify(read.body)).not.toContain(created.body.secret);
    const list = await api('GET', '');
    expect(JSON.stringify(list.body)).not.toContain(created.body.secret);
    const chosen = await api('POST', '', { url: receiver.url, eventTypes: ['hold.expired'], secret: 'my-own-secret-of-24-chars!', enabled: false });
    expect(chosen.body).toMatchObject({ secret: 'my-own-secret-of-24-chars!', secretHint: '…ars!', enabled: false });
    await api('DELETE', `/${chosen.body.id}`);
    await api('DELETE', `/${created.body.id}`);
  });

  it('When the input is bad, then 400 names each field and nothing is stored', async () => {
    const before = await env.db('webhook_endpoints').count({ n: '*' });
    const cases: [unknown, string[]][] = [
      [{ url: 'ftp://example.com/x', eventTypes: ['booking.confirmed'] }, ['url']],
      [{ url: 'https://user:pw@example.com/x', eventTypes: ['booking.confirmed'] }, ['url']],
      [{ url: `https://example.com/${'a'.repeat(2048)}`, eventTypes: ['booking.confirmed'] }, ['url']],
      [{ url: 'not a url', eventTypes: ['booking.nope'] }, ['url', 'eventTypes.0']],
      [{ url: 'https://example.com', eventTypes: [] }, ['eventTypes']],
      [{ url: 'https://example.com', eventTypes: ['hold.expired', 'hold.expired'] }, ['eventTypes']],
      [{ url: 'https://example.com', eventTypes: ['hold.expired'], secret: 'short' }, ['secret']],
      [{ url: 'https://example.com', eventTypes: ['hold.expired'], extra: 1 }, ['(root)']],
    ];
    for (const [body, fields] of cases) {
      const res = await api('POST', '', body);
      expect([res.status, res.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
      expect(paths(res)).toEqual(fields);
    }
    expect((await api('PATCH', '/1', {})).status).toBe(400);
    expect((await api('GET', '/0')).status).toBe(400);
    expect((await api('GET', '/1/deliveries?status=lost')).status).toBe(400);
    expect((await api('POST', `/1/deliveries/not-a-uuid/redeliver`)).status).toBe(400);
    expect((await api('POST', '', { url: 'https://example.com', eventTypes: ['hold.expired'] }, clerk.token)).status).toBe(403);
    expect(await env.db('webhook_endpoints').count({ n: '*' })).toEqual(before);
  });

  it('When an endpoint is missing, then its routes answer 404', async () => {
    expect((await api('GET', '/999999')).body.error.code).toBe('WEBHOOK_NOT_FOUND');
    expect((await api('PATCH', '/999999', { enabled: false })).status).toBe(404);
    expect((await api('DELETE', '/999999')).status).toBe(404);
    expect((await api('GET', '/999999/deliveries')).status).toBe(404);
    const ep = await api('POST', '', { url: receiver.url, eventTypes: ['hold.expired'], enabled: false });
    const res = await api('POST', `/${ep.body.id}/deliveries/${randomUUID()}/redeliver`);
    expect([res.status, res.body.error.code]).toEqual([404, 'DELIVERY_NOT_FOUND']);
    await api('DELETE', `/${ep.body.id}`);
  });

  it(`When ${MAX_ENDPOINTS} endpoints exist, then one more is refused with 422 and not stored`, async () => {
    const made: number[] = [];
    const existing = Number((await env.db('webhook_endpoints').count({ n: '*' }))[0]!.n);
    for (let i = existing; i < MAX_ENDPOINTS; i++) made.push((await api('POST', '', { url: `https://example.com/${i}`, eventTypes: ['hold.expired'], enabled: false })).body.id);
    const refused = await api('POST', '', { url: 'https://example.com/one-more', eventTypes: ['hold.expired'] });
    expect([refused.status, refused.body.error.code]).toEqual([422, 'WEBHOOK_LIMIT_REACHED']);
    expect(Number((await env.db('webhook_endpoints').count({ n: '*' }))[0]!.n)).toBe(MAX_ENDPOINTS);
    for (const id of made) expect((await api('DELETE', `/${id}`)).status).toBe(204);
  });

  it('When the node dispatches, then an enabled endpoint gets the event, a disabled one nothing, and /metrics counts it', async () => {
    const on = await api('POST', '', { url: receiver.url, eventTypes: ['event.status_changed'] });
    const off = await api('POST', '', { url: `${receiver.url}?off`, eventTypes: ['event.status_changed'], enabled: false });
    expect((await api('PATCH', `/${off.body.id}`, { enabled: true, description: 'later' })).body).toMatchObject({ enabled: true, description: 'later', version: 2 });
    expect((await api('PATCH', `/${off.body.id}`, { enabled: false })).body.enabled).toBe(false);
    const { eventId } = await seedEvent(env, { status: 'draft' });
    const ev = await http(env.nodes[0]!.url, 'GET', `/api/admin/events/${eventId}`, { token: admin.token });
    const before = receiver.received.length;
    await http(env.nodes[0]!.url, 'PATCH', `/api/admin/events/${eventId}`, { token: admin.token, body: { status: 'on_sale' }, headers: { 'If-Match': ev.headers.get('etag')! } });

    await receiver.waitFor(before + 1); // the node's own dispatcher, polling
    expect(receiver.received[before]!.json).toMatchObject({ type: 'event.status_changed', data: { eventId, to: 'on_sale' } });
    // The receiver answers before the dispatcher records the outcome: wait for the record, not for the POST.
    const delivered = () => api('GET', `/${on.body.id}/deliveries?status=delivered`);
    await until(async () => (await delivered()).body.items.length > 0, 5000, 'the delivery recorded as delivered');
    const log = await delivered();
    expect(log.body).toMatchObject({ total: 1, items: [{ status: 'delivered', attempts: 1 }] });
    expect((await api('GET', `/${off.body.id}/deliveries`)).body.items).toEqual([]);
    // The counter moves just after the record commits, in the dispatcher's own continuation.
    const counted = /^evently_webhook_deliveries_total\{outcome="delivered"\} [1-9]/m;
    await until(async () => counted.test((await http(env.nodes[0]!.url, 'GET', '/metrics')).body), 5000, 'the delivery counted in /metrics');
    const metrics = await http(env.nodes[0]!.url, 'GET', '/metrics');
    expect(metrics.body).toMatch(counted);
    expect(metrics.body).toMatch(/^evently_webhook_backlog\{stage="outbox"\} \d+/m);
    expect((await api('DELETE', `/${on.body.id}`)).status).toBe(204);
    expect(await env.db('webhook_deliveries').where({ endpoint_id: on.body.id }).count({ n: '*' })).toEqual([{ n: 0 }]);
    await api('DELETE', `/${off.body.id}`);
  });
});
