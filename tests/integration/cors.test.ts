import { startTestEnv, type TestEnv, createUsers, seedEvent, type SeededEvent } from '../helpers/env';
import { http } from '../helpers/http';

/**
 * CORS on the REST API: an origin listed in CORS_ORIGINS may call it from a browser (the layout fetch, a hold
 * with its preflight); any other origin, and every origin when the list is empty, gets no CORS headers.
 */
const ALLOWED = 'https://tickets.example.com';
const FOREIGN = 'https://evil.example.net';

describe('REST CORS with CORS_ORIGINS set (sqlite)', () => {
  let env: TestEnv;
  let base: string;
  let ev: SeededEvent;
  let buyer: { token: string };

  beforeAll(async () => {
    env = await startTestEnv({ dialect: 'sqlite', env: { CORS_ORIGINS: `${ALLOWED},http://localhost:5173` } });
    base = env.nodes[0]!.url;
    ev = await seedEvent(env, { rows: 1, seatsPerRow: 4 });
    [buyer] = await createUsers(env, 1);
  });
  afterAll(async () => env?.stop());

  test('an allowed origin reads the layout, its ETag included, without credentials', async () => {
    const r = await http(base, 'GET', `/api/events/${ev.eventId}/layout`, { headers: { origin: ALLOWED } });
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(r.headers.get('vary') ?? '').toMatch(/origin/i);
    expect((r.headers.get('access-control-expose-headers') ?? '').split(',')).toEqual(expect.arrayContaining(['ETag', 'Retry-After']));
    expect(r.headers.get('access-control-allow-credentials')).toBeNull();
    expect(r.headers.get('etag')).toBeTruthy();
  });

  test('a preflight for a hold is answered before auth and limits, and the hold then works', async () => {
    const pre = await http(base, 'OPTIONS', `/api/events/${ev.eventId}/holds`, {
      headers: { origin: ALLOWED, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    expect((pre.headers.get('access-control-allow-headers') ?? '').toLowerCase()).toContain('authorization');
    expect(pre.headers.get('access-control-max-age')).toBe('600');
    const hold = await http(base, 'POST', `/api/events/${ev.eventId}/holds`, { token: buyer.token, body: { seatIds: [ev.seatIds[0]] }, headers: { origin: ALLOWED } });
    expect(hold.status).toBe(201);
    expect(hold.headers.get('access-control-allow-origin')).toBe(ALLOWED);
  });

  test('errors carry the CORS headers too, so the page can read the error body', async () => {
    const r = await http(base, 'POST', `/api/events/${ev.eventId}/holds`, { body: { seatIds: [ev.seatIds[1]] }, headers: { origin: ALLOWED } });
    expect(r.status).toBe(401);
    expect(r.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(r.body.error.code).toBeDefined();
  });

  test('another origin gets no CORS headers, on a request or a preflight', async () => {
    const r = await http(base, 'GET', `/api/events/${ev.eventId}/layout`, { headers: { origin: FOREIGN } });
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await http(base, 'OPTIONS', `/api/events/${ev.eventId}/holds`, { headers: { origin: FOREIGN, 'access-control-request-method': 'POST' } });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    expect(pre.headers.get('access-control-allow-methods')).toBeNull();
  });
});

describe('REST CORS without CORS_ORIGINS (sqlite)', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ dialect: 'sqlite' });
  });
  afterAll(async () => env?.stop());

  test('same origin only: no origin gets CORS headers', async () => {
    const r = await http(env.nodes[0]!.url, 'GET', '/healthz', { headers: { origin: ALLOWED } });
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await http(env.nodes[0]!.url, 'OPTIONS', '/api/auth/login', { headers: { origin: ALLOWED, 'access-control-request-method': 'POST' } });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
  });
});
