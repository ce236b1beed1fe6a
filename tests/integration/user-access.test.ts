import { describeEach, mysqlDialects } from '../helpers/dialects';
import { createUsers, seedEvent, startTestEnv, type SeededEvent, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { connect, connectError, send, until, type ClientSocket } from '../helpers/sockets';

/**
 * Issue 16, items 3 and 4: a token is only as good as its user's current state. On MariaDB with two nodes and
 * Redis: a change made through node 0 applies on node 1 at once (pub/sub), without moving the clock past the
 * auth cache's lifetime.
 */
describeEach(mysqlDialects(), 'user access changes and removed users (%s, 2 nodes, Redis)', (dialect) => {
  let env: TestEnv;
  let ev: SeededEvent;
  let admin: { id: number; token: string };
  let n0: string;
  let n1: string;
  const sockets: ClientSocket[] = [];
  beforeAll(async () => {
    env = await startTestEnv({ dialect, nodes: 2, redis: true, env: { SWEEP_INTERVAL_MS: '60000' } });
    [n0, n1] = env.nodes.map((n) => n.url) as [string, string];
    admin = (await createUsers(env, 1, 'admin'))[0]!;
    ev = await seedEvent(env, { rows: 2, seatsPerRow: 10 });
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });
  afterAll(() => env.stop());

  const open = async (url: string, token?: string): Promise<ClientSocket> => {
    const s = connect(url, ev.eventId, token ? { token } : {});
    sockets.push(s);
    await until(() => s.connected, 5000, 'socket connected');
    return s;
  };
  const patch = (id: number, body: unknown, token = admin.token) => http(n0, 'PATCH', `/api/admin/users/${id}`, { token, body });

  describe('a removed user (row deleted)', () => {
    it('When the row is gone, then REST holds and waitlist joins answer 401, never 500', async () => {
      const [gone] = await createUsers(env, 1);
      await env.db('users').where({ id: gone!.id }).delete();
      for (const url of [n0, n1]) {
        const hold = await http(url, 'POST', `/api/events/${ev.eventId}/holds`, { token: gone!.token, body: { seatIds: [ev.seatIds[0]] } });
        expect([hold.status, hold.body.error.code]).toEqual([401, 'UNAUTHORIZED']);
        const wait = await http(url, 'POST', `/api/events/${ev.eventId}/waitlist`, { token: gone!.token, body: { partySize: 1 } });
        expect([wait.status, wait.body.error.code]).toEqual([401, 'UNAUTHORIZED']);
        expect((await http(url, 'GET', '/api/me', { token: gone!.token })).status).toBe(401);
      }
    });

    it('When the row is gone, then the handshake is refused with UNAUTHORIZED', async () => {
      const [gone] = await createUsers(env, 1);
      await env.db('users').where({ id: gone!.id }).delete();
      const s = connect(n1, ev.eventId, { token: gone!.token });
      sockets.push(s);
      expect((await connectError(s)).data?.code).toBe('UNAUTHORIZED');
    });

    it('When the row goes while a socket is open, then its commands answer UNAUTHORIZED, never INTERNAL', async () => {
      const [gone] = await createUsers(env, 1);
      const s = await open(n1, gone!.token);
      await env.db('users').where({ id: gone!.id }).delete();
      // The row was deleted behind the server's back (no access change published): the cache must lapse first.
      env.clock.advance(env.config.authCacheSeconds * 1000 + 1);
      const hold = (await send(s, 'seat:hold', { seatIds: [ev.seatIds[1]!] })) as any;
      expect([hold.ok, hold.error?.code]).toEqual([false, 'UNAUTHORIZED']);
      const wait = (await send(s, 'waitlist:join', { partySize: 1 } as any)) as any;
      expect([wait.ok, wait.error?.code]).toEqual([false, 'UNAUTHORIZED']);
    });
  });

  describe('PATCH /api/admin/users/:id', () => {
    it('When box office is demoted on node 0, then node 1 refuses staff reads and its open socket loses holder identities at once', async () => {
      const [clerk] = await createUsers(env, 1, 'box_office');
      const [buyer] = await createUsers(env, 1);
      expect((await http(n1, 'GET', `/api/admin/events/${ev.eventId}/seats`, { token: clerk!.token })).status).toBe(200);
      const staff = await open(n1, clerk!.token);
      const batches: any[] = [];
      staff.on('seats:changed', (b) => batches.push(b));

      const r = await patch(clerk!.id, { role: 'user' });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ id: clerk!.id, role: 'user', active: true });
      // Node 1 hears about it over Redis; no clock movement, so its cache cannot simply have lapsed.
      await until(async () => (await http(n1, 'GET', `/api/admin/events/${ev.eventId}/seats`, { token: clerk!.token })).status === 403, 5000, 'node 1 refuses the demoted user');
      expect((await http(n1, 'GET', '/api/me', { token: clerk!.token })).body.role).toBe('user');
      await until(() => !env.nodes[1]!.io.of(`/events/${ev.eventId}`).adapter.rooms.get('staff')?.size, 5000, 'socket left the staff room');

      const held = await http(n0, 'POST', `/api/events/${ev.eventId}/holds`, { token: buyer!.token, body: { seatIds: [ev.seatIds[2]] } });
      expect(held.status).toBe(201);
      await until(() => batches.some((b) => b.seats.some((s: any) => s.id === ev.seatIds[2])), 5000, 'the change reached the demoted socket');
      for (const b of batches) for (const s of b.seats) expect(s.holder).toBeUndefined();
      // Its socket acts as a buyer now: staff-only force release is refused.
      const forced = await http(n1, 'DELETE', `/api/admin/holds/${held.body.holdToken}`, { token: clerk!.token });
      expect(forced.status).toBe(403);
    });

    it('When a user is promoted, then their existing token gets staff reads at once', async () => {
      const [u] = await createUsers(env, 1);
      expect((await http(n1, 'GET', `/api/admin/events/${ev.eventId}/seats`, { token: u!.token })).status).toBe(403);
      expect((await patch(u!.id, { role: 'box_office' })).status).toBe(200);
      await until(async () => (await http(n1, 'GET', `/api/admin/events/${ev.eventId}/seats`, { token: u!.token })).status === 200, 5000, 'promotion applied on node 1');
    });

    it('When a user is deactivated, then their sockets on the other node are disconnected, tokens and sign-in refused; reactivation needs a new sign-in', async () => {
      const email = `deact-${Date.now()}@example.com`;
      const reg = await http(n0, 'POST', '/api/auth/register', { body: { email, password: 'password-123', name: 'D' } });
      expect(reg.status).toBe(201);
      const { token, user } = reg.body;
      const s = await open(n1, token);
      const gone = new Promise<string>((res) => s.on('disconnect', (reason) => res(reason)));

      const r = await patch(user.id, { active: false });
      expect([r.status, r.body.active]).toEqual([200, false]);
      expect(await gone).toBe('io server disconnect');
      for (const url of [n0, n1]) {
        const hold = await http(url, 'POST', `/api/events/${ev.eventId}/holds`, { token, body: { seatIds: [ev.seatIds[3]] } });
        expect([hold.status, hold.body.error.code]).toEqual([401, 'ACCOUNT_DEACTIVATED']);
      }
      const again = connect(n1, ev.eventId, { token });
      sockets.push(again);
      expect((await connectError(again)).data?.code).toBe('ACCOUNT_DEACTIVATED');
      const login = await http(n1, 'POST', '/api/auth/login', { body: { email, password: 'password-123' } });
      expect([login.status, login.body.error.code]).toEqual([401, 'ACCOUNT_DEACTIVATED']);

      expect((await patch(user.id, { active: true })).body.active).toBe(true);
      const old = await http(n1, 'GET', '/api/me', { token });
      expect([old.status, old.body.error.code]).toEqual([401, 'TOKEN_REVOKED']);
      const fresh = await http(n1, 'POST', '/api/auth/login', { body: { email, password: 'password-123' } });
      expect(fresh.status).toBe(200);
      expect((await http(n0, 'GET', '/api/me', { token: fresh.body.token })).status).toBe(200);
    });

    it('When the input is wrong or the caller may not, then it is refused and nothing changes', async () => {
      const [u] = await createUsers(env, 1);
      const [clerk] = await createUsers(env, 1, 'box_office');
      expect((await patch(u!.id, { role: 'admin' }, clerk!.token)).status).toBe(403);
      expect((await patch(u!.id, { role: 'admin' }, u!.token)).status).toBe(403);
      expect((await http(n0, 'PATCH', `/api/admin/users/${u!.id}`, { body: { role: 'admin' } })).status).toBe(401);
      for (const body of [{}, { role: 'root' }, { active: 'no' }, { role: 'user', extra: 1 }]) {
        const r = await patch(u!.id, body);
        expect([r.status, r.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
      }
      expect((await patch(2 ** 31 - 2, { active: false })).body.error.code).toBe('USER_NOT_FOUND');
      const self = await patch(admin.id, { role: 'user' });
      expect([self.status, self.body.error.code]).toEqual([409, 'CANNOT_CHANGE_OWN_ACCESS']);
      const row = await env.db('users').where({ id: u!.id }).first();
      expect([row.role, Boolean(row.active), Number(row.token_version)]).toEqual(['user', true, 0]);
      expect((await http(n0, 'GET', `/api/admin/users/${u!.id}`, { token: admin.token })).body).toMatchObject({ id: u!.id, role: 'user', active: true });
    });
  });
});
