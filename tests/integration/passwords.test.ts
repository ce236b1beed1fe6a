import bcrypt from 'bcryptjs';
import { describeEach, mysqlDialects } from '../helpers/dialects';
import { startTestEnv, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';

const ARGON2ID = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/;

/** Issue 16, item 6: Argon2id for new hashes; bcrypt hashes keep working and are replaced at the next sign-in. */
describeEach(mysqlDialects(), 'password hashing (%s, 2 nodes, Redis)', (dialect) => {
  let env: TestEnv;
  let n0: string;
  let n1: string;
  beforeAll(async () => {
    env = await startTestEnv({ dialect, nodes: 2, redis: true, env: { SWEEP_INTERVAL_MS: '60000' } });
    [n0, n1] = env.nodes.map((n) => n.url) as [string, string];
  });
  afterAll(() => env.stop());

  const login = (url: string, email: string, password: string) => http(url, 'POST', '/api/auth/login', { body: { email, password } });
  const hashOf = async (email: string) => String((await env.db('users').where({ email }).first('password_hash')).password_hash);

  it('When someone registers, then the stored hash is Argon2id with the OWASP parameters and signs in on either node', async () => {
    const reg = await http(n0, 'POST', '/api/auth/register', { body: { email: 'argon@example.com', password: 'argon-password', name: 'A' } });
    expect(reg.status).toBe(201);
    expect(await hashOf('argon@example.com')).toMatch(ARGON2ID);
    expect((await login(n1, 'argon@example.com', 'argon-password')).status).toBe(200);
    expect((await login(n1, 'argon@example.com', 'argon-passworD')).body.error.code).toBe('INVALID_CREDENTIALS');
  });

  it('When a user with a legacy bcrypt hash signs in, then it works and the hash becomes Argon2id; a wrong password changes nothing', async () => {
    const legacy = bcrypt.hashSync('legacy-password', 10);
    await env.db('users').insert({ email: 'legacy@example.com', name: 'L', password_hash: legacy, role: 'user', created_at: env.clock.now() });

    const wrong = await login(n0, 'legacy@example.com', 'not-the-password');
    expect([wrong.status, wrong.body.error.code]).toEqual([401, 'INVALID_CREDENTIALS']);
    expect(await hashOf('legacy@example.com')).toBe(legacy);

    const ok = await login(n0, 'legacy@example.com', 'legacy-password');
    expect(ok.status).toBe(200);
    const now = await hashOf('legacy@example.com');
    expect(now).toMatch(ARGON2ID);
    // The new hash verifies on the other node, and is not replaced again.
    expect((await login(n1, 'legacy@example.com', 'legacy-password')).status).toBe(200);
    expect(await hashOf('legacy@example.com')).toBe(now);
    expect((await login(n1, 'legacy@example.com', 'legacy-passworD')).status).toBe(401);
  });

  it('When a stored hash is unrecognisable, then sign-in fails closed with the usual 401', async () => {
    await env.db('users').insert({ email: 'weird@example.com', name: 'W', password_hash: 'plaintext-password', role: 'user', created_at: env.clock.now() });
    const r = await login(n0, 'weird@example.com', 'plaintext-password');
    expect([r.status, r.body.error.code]).toEqual([401, 'INVALID_CREDENTIALS']);
  });
});
