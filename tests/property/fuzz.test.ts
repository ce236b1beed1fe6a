import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import { createUsers, seedEvent, startTestEnv, TEST_JWT_SECRET, type SeededEvent, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { testDialects, describeEach } from '../helpers/dialects';
import { propertyParams } from './seed';
import { connect, connectError, send, until, type ClientSocket } from '../helpers/sockets';
import type { Db } from '../../server/db/knex';

/**
 * Hostile input: every socket event and every REST route fed arbitrary, malformed and oversize payloads
 * (no crash, no 5xx / INTERNAL, database unchanged); forged JWTs on REST and on the handshake; a foreign
 * Origin refused. The fuzzing user can change nothing legitimately (every seat of the event is blocked, it
 * owns no hold or booking), so any change in the database is a bug.
 */

/** Everything a fuzzed request could have changed, as one comparable string. */
async function fingerprint(db: Db): Promise<string> {
  const parts: unknown[] = [];
  for (const table of ['users', 'venues', 'events', 'holds', 'bookings', 'booking_seats', 'seat_changes', 'waitlist_entries']) {
    if (!(await db.schema.hasTable(table))) continue;
    const [{ n }] = (await db(table).count({ n: '*' })) as [{ n: number | string }];
    parts.push([table, Number(n)]);
  }
  parts.push((await db('event_seats').orderBy(['event_id', 'seat_id']).select('event_id', 'seat_id', 'status', 'version')).map((r) => `${r.event_id}/${r.seat_id}:${r.status}@${r.version}`));
  parts.push((await db('events').orderBy('id').select('id', 'status', 'version')).map((r) => `${r.id}:${r.status}@${r.version}`));
  return JSON.stringify(parts);
}

/** The socket commands of the protocol, plus made-up ones. */
const SOCKET_EVENTS = [
  'seat:hold',
  'seat:release',
  'hold:extend',
  'booking:confirm',
  'seats:sync',
  'auth:refresh',
  'seat:best',
  'waitlist:join',
  'waitlist:status',
  'waitlist:accept',
  'waitlist:decline',
  'waitlist:leave',
  'ga:hold',
  'admin:anything',
  '__proto__',
  'constructor',
];

const KNOWN = new Set(SOCKET_EVENTS.slice(0, 13));
const text = (v: unknown): string => {
  try {
    return JSON.stringify(v) ?? 'undefined';
  } catch {
    return 'not json';
  }
};

/** Arbitrary JSON-ish values, with the shapes validators trip on: huge numbers, long strings, deep nesting, prototype keys. */
const hostile = fc.oneof(
  { weight: 4, arbitrary: fc.anything({ maxDepth: 4, withBigInt: false, withNullPrototype: true, withObjectString: true }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 6 }) },
  { weight: 1, arbitrary: fc.record({ seatIds: fc.array(fc.oneof(fc.double(), fc.integer(), fc.string(), fc.constant(null)), { maxLength: 30 }) }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.record({ holdToken: fc.string({ maxLength: 300 }), idempotencyKey: fc.string({ maxLength: 300 }), seatIds: fc.anything() }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.constantFrom({ __proto__: { seatIds: [1] } }, JSON.parse('{"__proto__": {"admin": true}}'), { constructor: { prototype: {} } }, { seatIds: new Array(5000).fill(1) }, 'x'.repeat(20000), [[[[[[[[[[]]]]]]]]]]) },
);

describeEach(testDialects(), 'hostile input (%s)', (dialect) => {
  let env: TestEnv;
  let ev: SeededEvent;
  let buyer: { id: number; token: string };
  let admin: { token: string };
  let before: string;
  beforeAll(async () => {
    env = await startTestEnv({ dialect, env: { SWEEP_INTERVAL_MS: '60000' } });
    buyer = (await createUsers(env, 1))[0]!;
    admin = (await createUsers(env, 1, 'admin'))[0]!;
    ev = await seedEvent(env, { rows: 1, seatsPerRow: 6 });
    const blocked = await http(env.nodes[0]!.url, 'POST', `/api/admin/events/${ev.eventId}/seats/block`, { token: admin.token, body: { seatIds: ev.seatIds } });
    expect(blocked.status).toBe(200);
    before = await fingerprint(env.db);
  });
  afterAll(async () => {
    await env.stop();
  });
  afterEach(async () => {
    // The node is alive and nothing changed.
    expect((await http(env.nodes[0]!.url, 'GET', '/healthz')).status).toBe(200);
    expect(await fingerprint(env.db)).toBe(before);
  });

  test('socket events with arbitrary payloads: an error ack (never INTERNAL), the socket stays usable', async () => {
    let socket: ClientSocket = connect(env.nodes[0]!.url, ev.eventId, { token: buyer.token });
    await until(() => socket.connected, 5000, 'connected');
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SOCKET_EVENTS), hostile, fc.integer({ min: 0, max: 3 }), async (event, payload, shape) => {
        if (!socket.connected) {
          socket.close();
          socket = connect(env.nodes[0]!.url, ev.eventId, { token: buyer.token });
          await until(() => socket.connected, 5000, 'reconnected');
        }
        const s = socket as any;
        if (!KNOWN.has(event)) {
          // Unknown events have no handler and so no ack: they must simply be ignored.
          s.emit(event, payload, () => undefined);
          return;
        }
        if (shape === 3) {
          // No ack, or extra arguments: ignored or refused, never a crash.
          s.emit(event, payload);
          s.emit(event, payload, payload, () => undefined);
          return;
        }
        const reply = shape === 0 ? await s.timeout(5000).emitWithAck(event, payload) : shape === 1 ? await s.timeout(5000).emitWithAck(event) : await s.timeout(5000).emitWithAck(event, payload, 'extra');
        expect(reply).toHaveProperty('ok');
        if (!reply.ok) {
          expect(reply.error.code).not.toBe('INTERNAL');
          codes.set(reply.error.code, (codes.get(reply.error.code) ?? 0) + 1);
        } else {
          // Only read-only commands can succeed for this user.
          expect(['seats:sync', 'waitlist:status']).toContain(event);
        }
      }).beforeEach(() => undefined),
      propertyParams(`socket payloads (${dialect})`, { numRuns: dialect === 'mysql' ? 300 : 150, interruptAfterTimeLimit: 20_000 }),
    ).catch((err) => {
      throw err;
    });
    expect(codes.get('VALIDATION_FAILED') ?? 0).toBeGreaterThan(0);
    // Beyond the 64 KB frame limit the server drops the connection; the node carries on.
    const big = connect(env.nodes[0]!.url, ev.eventId, { token: buyer.token });
    await until(() => big.connected, 5000, 'connected');
    const dropped = new Promise<string>((res) => big.on('disconnect', (reason) => res(reason)));
    big.emit('seat:hold' as any, { seatIds: [1], pad: 'x'.repeat(200_000) } as any, () => undefined);
    expect(await dropped).toMatch(/transport (close|error)/);
    big.close();
    socket.close();
  }, 60_000);

  test('REST routes with arbitrary bodies, path parameters and headers: never 5xx', async () => {
    const spec = (await http(env.nodes[0]!.url, 'GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const routes = Object.entries(spec.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path })));
    expect(routes.length).toBeGreaterThan(10);
    const statuses = new Map<number, number>();
    const fill = (path: string, param: string) =>
      path.replace(/\{[^}]+\}/g, () => encodeURIComponent(param)).replace(/^\/api/, '') ;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.oneof(fc.integer({ min: 1_000_000, max: 2 ** 31 - 1 }).map(String), fc.string({ maxLength: 40 }), fc.constantFrom('0', '-1', '1e99', 'NaN', '..', '%00', 'null', 'x'.repeat(300))),
        hostile,
        fc.constantFrom('buyer', 'admin', 'none'),
        fc.constantFrom('json', 'raw', 'text'),
        async (route, param, body, who, kind) => {
          const path = `/api${fill(route.path, param)}`;
          const token = who === 'buyer' ? buyer.token : who === 'admin' ? admin.token : undefined;
          // Admin routes get ids that name nothing, so a body that happens to be valid cannot change a real row.
          if (who === 'admin' && /\{/.test(route.path) && !/^\d{7,}$/.test(param)) return;
          const noBody = route.method === 'GET' || route.method === 'HEAD';
          const opts = noBody
            ? { token, headers: { 'Idempotency-Key': String(param).slice(0, 120) } }
            : kind === 'json'
              ? { token, body, headers: { 'Idempotency-Key': String(param).slice(0, 120) } }
              : kind === 'raw'
                ? { token, rawBody: typeof body === 'string' ? body : '{"seatIds": [1,2' }
                : { token, rawBody: text(body).slice(0, 1000), headers: { 'content-type': 'text/plain' } };
          let r;
          try {
            r = await http(env.nodes[0]!.url, route.method, path, opts as any);
          } catch (err) {
            // fetch refuses some header values (non-ASCII) on the client side: nothing was sent.
            if (/header|ByteString|Invalid/.test((err as Error).message)) return;
            throw err;
          }
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          if (r.status >= 500) throw new Error(`${route.method} ${path} -> ${r.status} ${JSON.stringify(r.body)}`);
          if (r.status >= 400 && typeof r.body === 'object') expect(typeof r.body.error?.code).toBe('string');
        },
      ),
      propertyParams(`REST inputs (${dialect})`, { numRuns: dialect === 'mysql' ? 400 : 200, interruptAfterTimeLimit: 20_000 }),
    );
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
    // Oversize and malformed bodies.
    const base = env.nodes[0]!.url;
    const huge = await http(base, 'POST', `/api/events/${ev.eventId}/holds`, { token: buyer.token, rawBody: `{"seatIds":[${'1,'.repeat(1_500_000)}1]}` });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    const deep = await http(base, 'POST', `/api/events/${ev.eventId}/holds`, { token: buyer.token, rawBody: '['.repeat(100_000) + ']'.repeat(100_000) });
    expect(deep.status).toBeLessThan(500);
    const broken = await http(base, 'POST', '/api/auth/login', { rawBody: '{"email": "a@b.c", "password": ' });
    expect(broken.body.error.code).toBe('INVALID_JSON');
    const binary = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-16' }, body: Buffer.from([0xff, 0xfe, 0x00, 0xd8]) });
    expect(binary.status).toBeLessThan(500);
  }, 60_000);

  describe('forged and stale tokens', () => {
    const claims = () => ({ role: 'admin', email: 'mallory@example.com', name: 'Mallory', sub: String(buyer.id) });
    const now = () => Math.floor(env.clock.now() / 1000);
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const attacks = (): [string, string, string][] => [
      ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims(), iss: 'evently', aud: 'evently-api', iat: now(), exp: now() + 3600 })}.`, 'INVALID_TOKEN'],
      ['wrong secret', jwt.sign({ ...claims(), iat: now(), exp: now() + 3600 }, 'not-the-secret-not-the-secret-not-the-secret', { algorithm: 'HS256', issuer: 'evently', audience: 'evently-api' }), 'INVALID_TOKEN'],
      ['expired', jwt.sign({ ...claims(), role: 'user', iat: now() - 7200, exp: now() - 60 }, TEST_JWT_SECRET, { algorithm: 'HS256', issuer: 'evently', audience: 'evently-api' }), 'TOKEN_EXPIRED'],
      ['wrong audience', jwt.sign({ ...claims(), iat: now(), exp: now() + 3600 }, TEST_JWT_SECRET, { algorithm: 'HS256', issuer: 'evently', audience: 'another-api' }), 'INVALID_TOKEN'],
      ['wrong issuer', jwt.sign({ ...claims(), iat: now(), exp: now() + 3600 }, TEST_JWT_SECRET, { algorithm: 'HS256', issuer: 'someone-else', audience: 'evently-api' }), 'INVALID_TOKEN'],
      ['HS512 with the right secret', jwt.sign({ ...claims(), iat: now(), exp: now() + 3600 }, TEST_JWT_SECRET, { algorithm: 'HS512', issuer: 'evently', audience: 'evently-api' }), 'INVALID_TOKEN'],
      ['no expiry', jwt.sign({ ...claims(), iat: now() }, TEST_JWT_SECRET, { algorithm: 'HS256', issuer: 'evently', audience: 'evently-api' }), 'INVALID_TOKEN'],
      ['unknown role', jwt.sign({ ...claims(), role: 'root', iat: now(), exp: now() + 3600 }, TEST_JWT_SECRET, { algorithm: 'HS256', issuer: 'evently', audience: 'evently-api' }), 'INVALID_TOKEN'],
      ['garbage', 'eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln', 'INVALID_TOKEN'],
    ];

    test('REST: every forged token is 401 with its code, on user and admin routes', async () => {
      for (const [name, token, code] of attacks()) {
        for (const [method, path, body] of [
          ['GET', '/api/me', undefined],
          ['POST', `/api/events/${ev.eventId}/holds`, { seatIds: [ev.seatIds[0]] }],
          ['POST', `/api/admin/events/${ev.eventId}/seats/unblock`, { seatIds: ev.seatIds }],
        ] as const) {
          const r = await http(env.nodes[0]!.url, method, path, { token, body });
          expect([name, path, r.status, r.body.error?.code]).toEqual([name, path, 401, code]);
        }
      }
    });

    test('handshake: every forged token is refused at connect with its code', async () => {
      for (const [name, token, code] of attacks()) {
        const s = connect(env.nodes[0]!.url, ev.eventId, { token });
        const err = await connectError(s);
        s.close();
        expect([name, err.data?.code]).toEqual([name, code]);
      }
      // auth:refresh cannot swap in a forged token either.
      const s = connect(env.nodes[0]!.url, ev.eventId, {});
      await until(() => s.connected, 5000, 'anonymous watcher connected');
      for (const [name, token, code] of attacks()) {
        const a = (await send(s, 'auth:refresh', { token })) as any;
        expect([name, a.ok, a.error?.code]).toEqual([name, false, code]);
      }
      const hold = (await send(s, 'seat:hold', { seatIds: [ev.seatIds[0]!] })) as any;
      expect(hold.error.code).toBe('UNAUTHORIZED');
      s.close();
    });

    test('a foreign Origin is refused; same origin and no Origin are allowed', async () => {
      const base = env.nodes[0]!.url;
      const handshake = (origin?: string) => fetch(`${base}/socket.io/?EIO=4&transport=polling`, { headers: origin ? { origin } : {} });
      const foreign = await handshake('https://evil.example');
      expect(foreign.status).toBe(403);
      const same = await handshake(base);
      expect(same.status).toBe(200);
      expect((await handshake()).status).toBe(200);
      // And over WebSocket with a browser-like client.
      const { io: ioc } = await import('socket.io-client');
      const s = ioc(`${base}/events/${ev.eventId}`, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { origin: 'https://evil.example' } } as any);
      const err = await new Promise<Error>((res) => s.on('connect_error', res));
      s.close();
      expect(err).toBeTruthy();
    });
  });
});
