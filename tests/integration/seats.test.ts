import { randomUUID } from 'node:crypto';
import { testDialects, describeEach } from '../helpers/dialects';
import { createUsers, seedEvent, startTestEnv, type SeededEvent, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { send, watch, type Watcher } from '../helpers/sockets';

/** Everything about seat commands that must hold on both databases: holding, booking, ownership, bad input (live map: seats-live). */
describeEach(testDialects(), 'seats on %s', (dialect) => {
  let env: TestEnv;
  let url: string;
  let ev: SeededEvent;
  let alice: { id: number; token: string };
  let bob: { id: number; token: string };
  let staff: { id: number; token: string };
  const watchers: Watcher[] = [];

  beforeAll(async () => {
    env = await startTestEnv({ dialect });
    url = env.nodes[0]!.url;
  });
  // Every test gets its own event and its own people: nothing depends on what an earlier test left behind.
  beforeEach(async () => {
    ev = await seedEvent(env, { rows: 4, seatsPerRow: 10, maxSeatsPerUser: 6, maxSeatsPerOrder: 4 });
    [alice, bob] = await createUsers(env, 2);
    [staff] = await createUsers(env, 1, 'box_office');
  });
  afterEach(() => watchers.splice(0).forEach((w) => w.close()));
  afterAll(() => env.stop());

  const seatRow = (seatId: number) => env.db('event_seats').where({ event_id: ev.eventId, seat_id: seatId }).first();
  /** Everything a refused request could have changed, for this test's event and people. */
  const dbState = async () => ({
    seats: await env.db('event_seats').where({ event_id: ev.eventId }).orderBy('seat_id').select('seat_id', 'status', 'version', 'hold_id', 'booking_id'),
    holds: await env.db('holds').whereIn('user_id', [alice.id, bob.id, staff.id]).orderBy('id').select('id', 'status', 'expires_at'),
    bookings: await env.db('bookings').whereIn('user_id', [alice.id, bob.id, staff.id]).orderBy('id').select('id', 'status'),
    changes: await env.db('seat_changes').where({ event_id: ev.eventId }).count({ n: '*' }),
  });
  const hold = (token: string, seatIds: number[], extra: object = {}) =>
    http(url, 'POST', `/api/events/${ev.eventId}/holds`, { token, body: { seatIds, ...extra } });

  it('holds, extends, books and shows the booking over REST', async () => {
    const [s1, s2] = ev.seatIds;
    const held = await hold(alice.token, [s1!, s2!]);
    expect(held.status).toBe(201);
    expect(held.body.seats.map((s: { id: number }) => s.id)).toEqual([s1, s2]);
    expect((await seatRow(s1!)).status).toBe('held');
    const changesBefore = await env.db('seat_changes').where({ event_id: ev.eventId, seat_id: s1 }).count({ n: '*' });
    expect(Number(changesBefore[0]!.n)).toBe(1);

    env.clock.advance(60_000);
    const extended = await http(url, 'POST', `/api/holds/${held.body.holdToken}/extend`, { token: alice.token });
    expect(extended.status).toBe(200);
    expect(Date.parse(extended.body.expiresAt)).toBeGreaterThan(Date.parse(held.body.expiresAt));

    const key = randomUUID();
    const booked = await http(url, 'POST', '/api/bookings', { token: alice.token, body: { holdToken: held.body.holdToken }, headers: { 'Idempotency-Key': key } });
    expect(booked.status).toBe(201);
    expect(booked.body).toMatchObject({ status: 'confirmed', eventId: ev.eventId, totalCents: 10000, currency: 'EUR' });
    expect(booked.body.reference).toMatch(/^EV-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    expect(booked.body.seats).toHaveLength(2);
    expect(booked.body.seats[0]).toMatchObject({ seatId: s1, section: 'Main', row: 'A', number: 1, label: 'Main A-1', priceCents: 5000 });
    expect((await seatRow(s1!)).status).toBe('booked');

    const again = await http(url, 'POST', '/api/bookings', { token: alice.token, body: { holdToken: held.body.holdToken }, headers: { 'Idempotency-Key': key } });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(booked.body.id);
    const otherKey = await http(url, 'POST', '/api/bookings', { token: alice.token, body: { holdToken: held.body.holdToken }, headers: { 'Idempotency-Key': randomUUID() } });
    expect(otherKey.status).toBe(409);
    expect(otherKey.body.error.code).toBe('HOLD_ALREADY_BOOKED');

    const mine = await http(url, 'GET', '/api/bookings', { token: alice.token });
    expect(mine.body.items.map((b: { id: number }) => b.id)).toContain(booked.body.id);
    expect((await http(url, 'GET', '/api/bookings', { token: bob.token })).body.items).toHaveLength(0);

    const cancelled = await http(url, 'DELETE', `/api/bookings/${booked.body.id}`, { token: alice.token });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect((await seatRow(s1!)).status).toBe('available');
    const active = await env.db('booking_seats').where({ booking_id: booked.body.id }).whereNotNull('active');
    expect(active).toHaveLength(0);
  });

  it('answers SEAT_UNAVAILABLE with the taken seats and holds nothing (all or nothing)', async () => {
    const [, , a, b, c] = ev.seatIds;
    expect((await hold(alice.token, [a!])).status).toBe(201);
    const before = await dbState();
    const res = await hold(bob.token, [b!, a!, c!]);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'SEAT_UNAVAILABLE', details: { seatIds: [a] } });
    expect(await dbState()).toEqual(before);
  });

  it('enforces max seats per order and per user', async () => {
    const ids = ev.seatIds.slice(10, 20);
    const tooMany = await hold(bob.token, ids.slice(0, 5));
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.error.code).toBe('TOO_MANY_SEATS');
    const first = await hold(bob.token, ids.slice(0, 4));
    expect(first.status).toBe(201);
    const second = await hold(bob.token, ids.slice(4, 7));
    expect(second.status).toBe(422);
    expect(second.body.error.code).toBe('HOLD_LIMIT_REACHED');
    const addTooMany = await hold(bob.token, ids.slice(4, 5), { holdToken: first.body.holdToken });
    expect(addTooMany.body.error.code).toBe('TOO_MANY_SEATS');
    // At the limit, asking for a seat somebody else holds: the limit answers first (docs/DESIGN.md, "Which error wins").
    expect((await hold(bob.token, ids.slice(4, 6))).status).toBe(201);
    expect((await hold(alice.token, ids.slice(6, 7))).status).toBe(201);
    const limitFirst = await hold(bob.token, ids.slice(6, 7));
    expect([limitFirst.status, limitFirst.body.error.code]).toEqual([422, 'HOLD_LIMIT_REACHED']);
    await http(url, 'DELETE', `/api/holds/${first.body.holdToken}`, { token: bob.token });
  });

  it('adds seats to an existing hold and releases some of them', async () => {
    const [a, b, c] = ev.seatIds.slice(20, 23);
    const first = await hold(alice.token, [a!]);
    const more = await hold(alice.token, [b!, c!], { holdToken: first.body.holdToken });
    expect(more.status).toBe(201);
    expect(more.body.holdToken).toBe(first.body.holdToken);
    expect(more.body.expiresAt).toBe(first.body.expiresAt);
    expect(more.body.seats.map((s: { id: number }) => s.id)).toEqual([a, b, c]);
    const partial = await http(url, 'DELETE', `/api/holds/${first.body.holdToken}`, { token: alice.token, body: { seatIds: [b] } });
    expect(partial.status).toBe(200);
    expect(partial.body.released).toEqual([b]);
    expect(partial.body.hold.seats.map((s: { id: number }) => s.id)).toEqual([a, c]);
    const notMine = await http(url, 'DELETE', `/api/holds/${first.body.holdToken}`, { token: alice.token, body: { seatIds: [ev.seatIds[30]] } });
    expect(notMine.status).toBe(409);
    expect(notMine.body.error.code).toBe('SEAT_NOT_IN_HOLD');
    const rest = await http(url, 'DELETE', `/api/holds/${first.body.holdToken}`, { token: alice.token });
    expect(rest.body.released).toEqual([a, c]);
    expect(rest.body.hold).toBeNull();
    expect((await env.db('holds').where({ token: first.body.holdToken }).first()).status).toBe('released');
  });

  describe('only the holder (or box office) acts on a hold', () => {
    it('refuses another user over REST and socket, and lets box office force-release', async () => {
      const [a] = ev.seatIds.slice(24, 25);
      const held = await hold(alice.token, [a!]);
      const token = held.body.holdToken;
      const before = await dbState();
      expect((await http(url, 'DELETE', `/api/holds/${token}`, { token: bob.token })).status).toBe(403);
      expect((await http(url, 'POST', `/api/holds/${token}/extend`, { token: bob.token })).status).toBe(403);
      const book = await http(url, 'POST', '/api/bookings', { token: bob.token, body: { holdToken: token }, headers: { 'Idempotency-Key': randomUUID() } });
      expect(book.status).toBe(403);
      const bobSocket = watch(url, ev.eventId, { token: bob.token });
      watchers.push(bobSocket);
      await bobSocket.ready;
      for (const [event, payload] of [
        ['seat:release', { holdToken: token }],
        ['hold:extend', { holdToken: token }],
        ['booking:confirm', { holdToken: token, idempotencyKey: randomUUID() }],
      ] as const) {
        const ack = await send(bobSocket.socket, event as 'seat:release', payload as { holdToken: string });
        expect(ack).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
      }
      expect(await dbState()).toEqual(before);
      const forced = await http(url, 'DELETE', `/api/holds/${token}`, { token: staff.token });
      expect(forced.status).toBe(200);
      const log = await env.db('seat_changes').where({ seat_id: a, reason: 'force_release' }).first();
      expect(log.actor_id).toBe(staff.id);
    });
  });

  describe('bad input changes nothing', () => {
    it('rejects bad REST bodies with 4xx', async () => {
      const before = await dbState();
      const cases: [unknown, number][] = [
        [{ seatIds: 'x' }, 400],
        [{ seatIds: [] }, 400],
        [{ seatIds: [1.5] }, 400],
        [{ seatIds: [ev.seatIds[0], ev.seatIds[0]] }, 400],
        [{ seatIds: Array.from({ length: 101 }, (_, i) => i + 1) }, 400],
        [{ seatIds: [ev.seatIds[0]], extra: true }, 400],
        [{ seatIds: [ev.seatIds[0]], holdToken: 'short' }, 400],
        [{ seatIds: [999999] }, 404],
      ];
      for (const [body, status] of cases) {
        const res = await http(url, 'POST', `/api/events/${ev.eventId}/holds`, { token: alice.token, body });
        expect([JSON.stringify(body).slice(0, 60), res.status]).toEqual([JSON.stringify(body).slice(0, 60), status]);
        expect(res.body.error.code).toEqual(expect.any(String));
      }
      expect((await http(url, 'POST', `/api/events/999999/holds`, { token: alice.token, body: { seatIds: [ev.seatIds[0]] } })).status).toBe(404);
      expect((await http(url, 'POST', `/api/events/abc/holds`, { token: alice.token, body: { seatIds: [1] } })).status).toBe(400);
      expect((await http(url, 'POST', `/api/events/${ev.eventId}/holds`, { body: { seatIds: [ev.seatIds[0]] } })).status).toBe(401);
      expect((await http(url, 'POST', '/api/bookings', { token: alice.token, body: { holdToken: 'a'.repeat(32) } })).status).toBe(400);
      expect(await dbState()).toEqual(before);
    });

    it('rejects seats of another event', async () => {
      const other = await seedEvent(env, { rows: 1, seatsPerRow: 3 });
      const before = await dbState();
      const res = await hold(alice.token, [other.seatIds[0]!]);
      expect(res.status).toBe(404);
      expect(res.body.error).toMatchObject({ code: 'SEAT_NOT_FOUND', details: { seatIds: [other.seatIds[0]] } });
      expect(await dbState()).toEqual(before);
    });

    it('answers bad socket payloads with an error ack', async () => {
      const w = watch(url, ev.eventId, { token: alice.token });
      watchers.push(w);
      await w.ready;
      const before = await dbState();
      const payloads: unknown[] = [
        undefined,
        null,
        42,
        'seat',
        { seatIds: 'x' },
        { seatIds: [] },
        { seatIds: [1], unknown: 1 },
        { seatIds: Array.from({ length: 5000 }, (_, i) => i + 1) },
        { seatIds: [999999] },
      ];
      for (const p of payloads) {
        const ack = await (w.socket as any).timeout(5000).emitWithAck('seat:hold', p);
        expect(ack.ok).toBe(false);
        expect(ack.error.code).toMatch(/^(VALIDATION_FAILED|SEAT_NOT_FOUND)$/);
      }
      expect(await dbState()).toEqual(before);
      expect(w.socket.connected).toBe(true);
    });

    it('refuses commands from a watcher without a token, and from an expired token', async () => {
      const anon = watch(url, ev.eventId);
      watchers.push(anon);
      await anon.ready;
      expect(await send(anon.socket, 'seat:hold', { seatIds: [ev.seatIds[35]!] })).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
      const w = watch(url, ev.eventId, { token: alice.token });
      watchers.push(w);
      await w.ready;
      env.clock.advance(13 * 3600 * 1000);
      try {
        expect(await send(w.socket, 'seat:hold', { seatIds: [ev.seatIds[35]!] })).toMatchObject({ ok: false, error: { code: 'TOKEN_EXPIRED' } });
      } finally {
        env.clock.advance(-13 * 3600 * 1000);
      }
      expect((await seatRow(ev.seatIds[35]!)).status).toBe('available');
    });
  });

});


/** "Before the sweep" is a state this test must be able to hold on to: the node runs no sweeper of its own. */
describeEach(testDialects(), 'lapsed holds without a sweeper on %s', (dialect) => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ dialect, sweeper: false });
  });
  afterAll(() => env.stop());

  it('When a hold has lapsed but was not swept, then the next hold attempt takes its seat; the later sweep leaves it alone', async () => {
    const url = env.nodes[0]!.url;
    const [alice, bob] = await createUsers(env, 2);
    const short = await seedEvent(env, { rows: 1, seatsPerRow: 2, holdTtlSeconds: 30 });
    const seat = short.seatIds[0]!;
    const first = await http(url, 'POST', `/api/events/${short.eventId}/holds`, { token: alice!.token, body: { seatIds: [seat] } });
    expect(first.status).toBe(201);
    env.clock.advance(31_000);
    // Not swept: the old hold is still active by its row, only its expiry says it has lapsed.
    expect((await env.db('holds').where({ token: first.body.holdToken }).first()).status).toBe('active');
    const second = await http(url, 'POST', `/api/events/${short.eventId}/holds`, { token: bob!.token, body: { seatIds: [seat] } });
    expect(second.status).toBe(201);
    const newHoldId = (await env.db('holds').where({ token: second.body.holdToken }).first()).id;
    const row = await env.db('event_seats').where({ event_id: short.eventId, seat_id: seat }).first();
    expect([row.status, row.hold_id]).toEqual(['held', newHoldId]);
    // Now the sweep: the old hold is expired, and the seat (which no longer carries its id) stays with bob.
    expect(await env.nodes[0]!.sweep()).toBe(1);
    expect((await env.db('holds').where({ token: first.body.holdToken }).first()).status).toBe('expired');
    const after = await env.db('event_seats').where({ event_id: short.eventId, seat_id: seat }).first();
    expect([after.status, after.hold_id]).toEqual(['held', newHoldId]);
    expect(await env.db('seat_changes').where({ event_id: short.eventId, reason: 'expire' })).toHaveLength(0);
  });
});
