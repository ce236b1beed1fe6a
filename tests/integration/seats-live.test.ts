import { randomUUID } from 'node:crypto';
import { testDialects, describeEach } from '../helpers/dialects';
import { createUsers, seedEvent, startTestEnv, type SeededEvent, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { connect, connectError, send, until, watch, type Watcher } from '../helpers/sockets';

/** The seat socket: the handshake (who may watch, what it refuses) and the live map (snapshot, changes, sync). */
describeEach(testDialects(), 'seats live on %s', (dialect) => {
  let env: TestEnv;
  let url: string;
  let ev: SeededEvent;
  let alice: { id: number; token: string };
  let bob: { id: number; token: string };
  const watchers: Watcher[] = [];

  beforeAll(async () => {
    env = await startTestEnv({ dialect });
    url = env.nodes[0]!.url;
  });
  // Every test gets its own event and its own people: nothing depends on what an earlier test left behind.
  beforeEach(async () => {
    ev = await seedEvent(env, { rows: 4, seatsPerRow: 10, maxSeatsPerUser: 6, maxSeatsPerOrder: 4 });
    [alice, bob] = await createUsers(env, 2);
  });
  afterEach(() => watchers.splice(0).forEach((w) => w.close()));
  afterAll(() => env.stop());

  const seatRow = (seatId: number) => env.db('event_seats').where({ event_id: ev.eventId, seat_id: seatId }).first();
  const hold = (token: string, seatIds: number[], extra: object = {}) =>
    http(url, 'POST', `/api/events/${ev.eventId}/holds`, { token, body: { seatIds, ...extra } });

  describe('handshake', () => {
    it('refuses an unknown event and a bad token with a coded connect_error', async () => {
      const unknown = connect(url, 999999);
      const err1 = await connectError(unknown);
      unknown.close();
      expect(err1.data).toMatchObject({ code: 'EVENT_NOT_FOUND' });
      const bad = connect(url, ev.eventId, { token: 'not.a.jwt' });
      const err2 = await connectError(bad);
      bad.close();
      expect(err2.data).toMatchObject({ code: 'INVALID_TOKEN' });
    });

    it('When many join at once, then a made-up event among them is refused and the others get their snapshots', async () => {
      // The handshake's user and event reads are batched per turn (server/db/batched-read.ts): one query for all
      // these joins, so one bad key in it must not fail its neighbours. 9999999999 is past MySQL's INT too.
      const others = await createUsers(env, 3);
      const joining = others.map((u) => watch(url, ev.eventId, { token: u.token }));
      watchers.push(...joining);
      const madeUp = connect(url, 9_999_999_999, { token: alice.token });

      const refused = await connectError(madeUp);
      madeUp.close();
      await Promise.all(joining.map((w) => w.ready));

      expect(refused.data).toMatchObject({ code: 'EVENT_NOT_FOUND' });
      for (const w of joining) expect(w.map.seats.size).toBe(ev.seatIds.length);
    });

    it('refuses a draft event to watchers', async () => {
      const draft = await seedEvent(env, { rows: 1, seatsPerRow: 2, status: 'draft' });
      const s = connect(url, draft.eventId);
      const err = await connectError(s);
      s.close();
      expect(err.data.code).toBe('EVENT_NOT_FOUND');
    });
  });

  describe('live map', () => {
    it('sends a snapshot on join and changes after commits; socket hold and book', async () => {
      const viewer = watch(url, ev.eventId);
      const buyer = watch(url, ev.eventId, { token: bob.token });
      watchers.push(viewer, buyer);
      await Promise.all([viewer.ready, buyer.ready]);
      expect(viewer.map.seats.size).toBe(ev.seatIds.length);
      const seat = ev.seatIds[36]!;
      const ack = await send(buyer.socket, 'seat:hold', { seatIds: [seat] });
      expect(ack.ok).toBe(true);
      if (!ack.ok) return;
      await until(() => viewer.map.seats.get(seat)?.status === 'held', 3000, 'viewer sees hold');
      const seen = viewer.map.seats.get(seat)!;
      expect(seen.expiresAt).toBe(ack.data.expiresAt);
      expect(Object.keys(seen).sort()).toEqual(['expiresAt', 'id', 'status', 'version']); // no identity to buyers
      const booked = await send(buyer.socket, 'booking:confirm', { holdToken: ack.data.holdToken, idempotencyKey: randomUUID() });
      expect(booked).toMatchObject({ ok: true, data: { status: 'confirmed' } });
      await until(() => viewer.map.seats.get(seat)?.status === 'booked', 3000, 'viewer sees booking');
      expect(viewer.map.seats.get(seat)!.version).toBe((await seatRow(seat)).version);
    });

    it('catches up after a disconnect: the map equals the database', async () => {
      // One change first, so the watcher's cursor is real: cursor 0 means "I have nothing" and gets a snapshot.
      expect((await hold(bob.token, [ev.seatIds[36]!])).status).toBe(201);
      const w = watch(url, ev.eventId);
      watchers.push(w);
      await w.ready;
      const cursor = w.map.cursor;
      w.socket.disconnect();
      // Changes while away: holds, a release and a booking.
      const h1 = await hold(alice.token, [ev.seatIds[37]!, ev.seatIds[38]!]);
      await hold(bob.token, [ev.seatIds[39]!]);
      await http(url, 'DELETE', `/api/holds/${h1.body.holdToken}`, { token: alice.token, body: { seatIds: [ev.seatIds[38]] } });
      const back = watch(url, ev.eventId, { cursor });
      watchers.push(back);
      // Reconnected with a cursor: the client gets only the changes, applied onto its old map.
      back.map.applySnapshot({ eventId: ev.eventId, cursor, seats: [...w.map.seats.values()] });
      let gotChanges = false;
      back.socket.on('seats:changed', () => (gotChanges = true));
      await until(() => gotChanges, 3000, 'catch-up batch');
      const rows = await env.db('event_seats').where({ event_id: ev.eventId }).select('seat_id', 'status', 'version');
      for (const r of rows) expect([r.seat_id, back.map.seats.get(r.seat_id)?.status, back.map.seats.get(r.seat_id)?.version]).toEqual([r.seat_id, r.status, r.version]);
    });

    it('sends a fresh snapshot for an unknown cursor', async () => {
      const w = watch(url, ev.eventId, { cursor: 987654321 });
      watchers.push(w);
      await w.ready;
      expect(w.map.seats.size).toBe(ev.seatIds.length);
    });

    it('expires a hold by time: swept, broadcast, and the holder told', async () => {
      const short = await seedEvent(env, { rows: 1, seatsPerRow: 4, holdTtlSeconds: 30 });
      const holder = watch(url, short.eventId, { token: alice.token });
      const viewer = watch(url, short.eventId);
      watchers.push(holder, viewer);
      await Promise.all([holder.ready, viewer.ready]);
      const expired: unknown[] = [];
      holder.socket.on('hold:expired', (n) => expired.push(n));
      let viewerExpired = 0;
      viewer.socket.on('hold:expired', () => viewerExpired++);
      const ack = await send(holder.socket, 'seat:hold', { seatIds: [short.seatIds[0]!] });
      expect(ack.ok).toBe(true);
      if (!ack.ok) return;
      await until(() => viewer.map.seats.get(short.seatIds[0]!)?.status === 'held', 3000, 'held');
      env.clock.advance(31_000);
      await until(() => viewer.map.seats.get(short.seatIds[0]!)?.status === 'available', 3000, 'expiry broadcast');
      await until(() => expired.length === 1, 3000, 'hold:expired');
      expect(expired[0]).toEqual({ eventId: short.eventId, holdToken: ack.data.holdToken, seatIds: [short.seatIds[0]] });
      expect(viewerExpired).toBe(0);
      const book = await send(holder.socket, 'booking:confirm', { holdToken: ack.data.holdToken, idempotencyKey: randomUUID() });
      expect(book).toMatchObject({ ok: false, error: { code: 'HOLD_EXPIRED' } });
      const changes = await env.db('seat_changes').where({ event_id: short.eventId, reason: 'expire' });
      expect(changes).toHaveLength(1);
    });

  });
});
