import jwt from 'jsonwebtoken';
import { testDialects, describeEach } from '../helpers/dialects';
import { startTestEnv, TEST_JWT_SECRET, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';

describeEach(testDialects(), 'accounts on %s', (dialect) => {
  let env: TestEnv;
  let url: string;
  beforeAll(async () => {
    env = await startTestEnv({ dialect });
    url = env.nodes[0]!.url;
  });
  afterAll(() => env.stop());

  const register = (body: unknown) => http(url, 'POST', '/api/auth/register', { body });

  it('registers, logs in and reads /me', async () => {
    const reg = await register({ email: 'Alice@Example.com', password: 'correct horse', name: 'Alice' });
    expect(reg.status).toBe(201);
    expect(reg.body.user).toMatchObject({ email: 'alice@example.com', name: 'Alice', role: 'user' });
    expect(reg.body.user.password_hash).toBeUndefined();
    const login = await http(url, 'POST', '/api/auth/login', { body: { email: 'alice@example.com', password: 'correct horse' } });
    expect(login.status).toBe(200);
    const me = await http(url, 'GET', '/api/me', { token: login.body.token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: reg.body.user.id, email: 'alice@example.com' });
    const row = await env.db('users').where({ id: reg.body.user.id }).first();
    expect(row.password_hash).toMatch(/^\$2[aby]\$1\d\$/); // bcrypt, cost >= 10
  });

  it('rejects a duplicate email with 409 and keeps one account', async () => {
    await register({ email: 'dup@example.com', password: 'password-1', name: 'A' });
    const again = await register({ email: 'DUP@example.com', password: 'password-2', name: 'B' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('EMAIL_TAKEN');
    const [{ n }] = await env.db('users').where({ email: 'dup@example.com' }).count({ n: '*' });
    expect(Number(n)).toBe(1);
  });

  it('answers wrong password and unknown email with the same 401', async () => {
    await register({ email: 'bob@example.com', password: 'bobs-password', name: 'Bob' });
    const wrong = await http(url, 'POST', '/api/auth/login', { body: { email: 'bob@example.com', password: 'nope-nope' } });
    const unknown = await http(url, 'POST', '/api/auth/login', { body: { email: 'nobody@example.com', password: 'nope-nope' } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body.error.code).toBe('INVALID_CREDENTIALS');
  });

  describe('tokens', () => {
    let token: string;
    let userId: number;
    beforeAll(async () => {
      const reg = await register({ email: 'tok@example.com', password: 'password-1', name: 'Tok' });
      token = reg.body.token;
      userId = reg.body.user.id;
    });
    const claims = () => ({ role: 'user', email: 'tok@example.com', name: 'Tok' });
    const opts = { issuer: 'evently', audience: 'evently-api', subject: '' };

    it('rejects a tampered token', async () => {
      const [h, p, s] = token.split('.');
      const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
      payload.role = 'admin';
      const forged = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
      const res = await http(url, 'GET', '/api/me', { token: forged });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('INVALID_TOKEN');
    });

    it('rejects an expired token', async () => {
      const expired = jwt.sign({ ...claims(), exp: Math.floor(Date.now() / 1000) - 10 }, TEST_JWT_SECRET, { ...opts, subject: String(userId), algorithm: 'HS256' });
      const res = await http(url, 'GET', '/api/me', { token: expired });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('TOKEN_EXPIRED');
    });

    it('expires tokens by the injected clock', async () => {
      env.clock.advance(13 * 3600 * 1000);
      try {
        const res = await http(url, 'GET', '/api/me', { token });
        expect(res.status).toBe(401);
        expect(res.body.error.code).toBe('TOKEN_EXPIRED');
      } finally {
        env.clock.advance(-13 * 3600 * 1000);
      }
    });

    it('rejects alg:none, a wrong secret and a wrong audience', async () => {
      const none = jwt.sign({ ...claims() }, '', { ...opts, subject: String(userId), algorithm: 'none' });
      const wrongSecret = jwt.sign({ ...claims() }, 'another-secret-another-secret-another', { ...opts, subject: String(userId), expiresIn: 60 });
      const wrongAudience = jwt.sign({ ...claims() }, TEST_JWT_SECRET, { ...opts, audience: 'other', subject: String(userId), expiresIn: 60 });
      for (const t of [none, wrongSecret, wrongAudience]) {
        const res = await http(url, 'GET', '/api/me', { token: t });
        expect(res.status).toBe(401);
      }
    });

    it('requires a token on /me', async () => {
      const res = await http(url, 'GET', '/api/me');
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('UNAUTHORIZED');
    });
  });

  describe('bad input', () => {
    it('gives 400 with field details and creates nothing', async () => {
      const before = await env.db('users').count({ n: '*' });
      const res = await register({ email: 'not-an-email', password: 'short', name: '' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      const paths = res.body.error.details.map((d: { path: string }) => d.path).sort();
      expect(paths).toEqual(['email', 'name', 'password']);
      expect(await env.db('users').count({ n: '*' })).toEqual(before);
    });

    it('rejects a role sent to register', async () => {
      const res = await register({ email: 'sneaky@example.com', password: 'password-1', name: 'S', role: 'admin' });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.error.details)).toContain('role');
      expect(await env.db('users').where({ email: 'sneaky@example.com' }).first()).toBeUndefined();
    });

    it('rejects an oversize body with 413', async () => {
      const res = await http(url, 'POST', '/api/auth/register', { rawBody: JSON.stringify({ email: 'big@example.com', password: 'x'.repeat(3_000_000), name: 'Big' }) });
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('rejects malformed JSON with 400 INVALID_JSON', async () => {
      const res = await http(url, 'POST', '/api/auth/login', { rawBody: '{"email": ' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_JSON');
    });

    it('rejects a password longer than bcrypt reads', async () => {
      const res = await register({ email: 'long@example.com', password: 'p'.repeat(73), name: 'Long' });
      expect(res.status).toBe(400);
    });
  });

  it('answers unknown routes in the error shape', async () => {
    const res = await http(url, 'GET', '/api/does-not-exist');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'ROUTE_NOT_FOUND', message: expect.any(String) } });
  });

  it('serves health, readiness and OpenAPI', async () => {
    expect((await http(url, 'GET', '/healthz')).status).toBe(200);
    const ready = await http(url, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.database).toBe('ok');
    const doc = await http(url, 'GET', '/openapi.json');
    expect(doc.body.openapi).toBe('3.0.3');
    expect(doc.body.paths['/api/auth/register'].post.requestBody).toBeDefined();
    expect(doc.body.paths['/api/events/{id}/holds'].post).toBeDefined();
    const docs = await http(url, 'GET', '/docs/');
    expect(docs.status).toBe(200);
  });
});
