import { randomUUID } from 'node:crypto';
import { mysqlDialects, describeEach } from '../helpers/dialects';
import { createUsers, seedEvent, startTestEnv, type SeededEvent, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { send, until, watch, type Watcher } from '../helpers/sockets';

/**
 * The concurrency proofs (invariants 1, 2, 4, 6): two nodes sharing one MariaDB and one Redis, every node
 * with a pool of 2 connections so a leaked connection shows up as a hang.
 */
describeEach(mysqlDialects(), 'concurrency across two nodes on %s', (dialect) => {
  let env: TestEnv;
  let ev: SeededEvent;
  const open: Watcher[] = [];

  beforeAll(async () => {
    env = await startTestEnv({ dialect, nodes: 2, redis: true, poolMax: 2 });
  });
  // Each test races over an event of its own.
  beforeEach(async () => {
    ev = await seedEvent(env, { rows: 5, seatsPerRow: 20, maxSeatsPerOrder: 10, maxSeatsPerUser: 10 });
  });
  afterEach(() => open.splice(0).forEach((w) => w.close()));
  afterAll(() => env.stop());

  const nodeUrl = (i: number) => env.nodes[i % 2]!.url;

  it('200 concurrent holds on 5 seats from two nodes: exactly one winner per seat', async () => {
    const contested = ev.seatIds.slice(0, 5);
    const users = await createUsers(env, 200);
    const sockets = users.map((u, i) => {
      const w = watch(nodeUrl(i), ev.eventId, { token: u.token });
      open.push(w);
      return w;
    });
    await Promise.all(sockets.map((w) => w.ready));
    const acks = await Promise.all(sockets.map((w, i) => send(w.socket, 'seat:hold', { seatIds: [contested[i % contested.length]!] })));

    const winners = acks.filter((a) => a.ok);
    const losers = acks.filter((a) => !a.ok);
    expect(winners).toHaveLength(contested.length);
    expect(new Set(losers.map((a) => (a.ok ? '' : a.error.code)))).toEqual(new Set(['SEAT_UNAVAILABLE']));
    const wonSeats = winners.map((a) => (a.ok ? a.data.seats[0]!.id : 0)).sort((x, y) => x - y);
    expect(wonSeats).toEqual([...contested].sort((x, y) => x - y));

    // The database agrees: each seat held once, by the hold its winner was told about.
    const rows = await env.db('event_seats as es').join('holds as h', 'h.id', 'es.hold_id').whereIn('es.seat_id', contested).select('es.seat_id', 'es.status', 'h.token');
    expect(rows).toHaveLength(contested.length);
    for (const r of rows) {
      expect(r.status).toBe('held');
      expect(winners.some((a) => a.ok && a.data.holdToken === r.token && a.data.seats[0]!.id === r.seat_id)).toBe(true);
    }
    const holdTransitions = await env.db('seat_changes').whereIn('seat_id', contested).where({ event_id: ev.eventId, to_status: 'held' }).count({ n: '*' });
    expect(Number(holdTransitions[0]!.n)).toBe(contested.length);
    const activeHolds = await env.db('holds').where({ event_id: ev.eventId, status: 'active' }).count({ n: '*' });
    expect(Number(activeHolds[0]!.n)).toBe(contested.length);

    // Everybody converges on the same map, whichever node they are on.
    await until(() => sockets.every((w) => contested.every((id) => w.map.seats.get(id)?.status === 'held')), 5000, 'all maps converge');
  });

  it('a hold on node A is seen by a watcher on node B', async () => {
    const [user] = await createUsers(env, 1);
    const onB = watch(nodeUrl(1), ev.eventId);
    open.push(onB);
    await onB.ready;
    const seat = ev.seatIds[10]!;
    const res = await http(nodeUrl(0), 'POST', `/api/events/${ev.eventId}/holds`, { token: user!.token, body: { seatIds: [seat] } });
    expect(res.status).toBe(201);
    await until(() => onB.map.seats.get(seat)?.status === 'held', 3000, 'node B watcher sees the hold');
  });

  it('an expired hold is swept and broadcast exactly once across both nodes', async () => {
    const short = await seedEvent(env, { rows: 1, seatsPerRow: 4, holdTtlSeconds: 20 });
    const [user] = await createUsers(env, 1);
    const a = watch(nodeUrl(0), short.eventId, { token: user!.token });
    const b = watch(nodeUrl(1), short.eventId);
    open.push(a, b);
    await Promise.all([a.ready, b.ready]);
    const seat = short.seatIds[0]!;
    const freedOn = [0, 0];
    [a, b].forEach((w, i) =>
      w.socket.on('seats:changed', (batch) => {
        if (batch.seats.some((s) => s.id === seat && s.status === 'available')) freedOn[i]!++;
      }),
    );
    let expiredNotices = 0;
    a.socket.on('hold:expired', () => expiredNotices++);
    const ack = await send(a.socket, 'seat:hold', { seatIds: [seat] });
    expect(ack.ok).toBe(true);
    await until(() => b.map.seats.get(seat)?.status === 'held', 3000, 'held everywhere');
    env.clock.advance(21_000);
    await until(() => freedOn[0] === 1 && freedOn[1] === 1 && expiredNotices === 1, 3000, 'expiry broadcast');
    // Give both sweepers several more rounds: nothing more may arrive.
    await new Promise((r) => setTimeout(r, 400));
    expect(freedOn).toEqual([1, 1]);
    expect(expiredNotices).toBe(1);
    const log = await env.db('seat_changes').where({ event_id: short.eventId, seat_id: seat, reason: 'expire' });
    expect(log).toHaveLength(1);
  });

  it('many holds lapsing at once are each released exactly once by the two nodes sweeping together', async () => {
    const short = await seedEvent(env, { rows: 2, seatsPerRow: 20, holdTtlSeconds: 25, maxSeatsPerOrder: 2 });
    const users = await createUsers(env, 20);
    const sockets = users.map((u, i) => {
      const w = watch(nodeUrl(i), short.eventId, { token: u.token });
      open.push(w);
      return w;
    });
    await Promise.all(sockets.map((w) => w.ready));
    const notices = new Map<string, number>();
    sockets.forEach((w) => w.socket.on('hold:expired', (n) => notices.set(n.holdToken, (notices.get(n.holdToken) ?? 0) + 1)));
    const acks = await Promise.all(sockets.map((w, i) => send(w.socket, 'seat:hold', { seatIds: short.seatIds.slice(i * 2, i * 2 + 2) })));
    expect(acks.every((a) => a.ok)).toBe(true);
    env.clock.advance(26_000);
    await until(() => notices.size === 20, 5000, 'every holder told');
    await new Promise((r) => setTimeout(r, 300)); // more sweeps on both nodes: nothing may repeat
    expect([...notices.values()].every((n) => n === 1)).toBe(true);
    const expired = await env.db('seat_changes').where({ event_id: short.eventId, reason: 'expire' }).count({ n: '*' });
    expect(Number(expired[0]!.n)).toBe(40);
    const left = await env.db('event_seats').where({ event_id: short.eventId, status: 'held' }).count({ n: '*' });
    expect(Number(left[0]!.n)).toBe(0);
    await until(() => sockets.every((w) => short.seatIds.every((id) => w.map.seats.get(id)?.status === 'available')), 5000, 'maps converge');
  });

  it('multi-seat holds taking the same seats in opposite orders: one wins whole, no partial hold', async () => {
    const users = await createUsers(env, 40);
    const rounds = 20;
    const results = await Promise.all(
      Array.from({ length: rounds }, async (_, r) => {
        const seats = ev.seatIds.slice(20 + r * 3, 23 + r * 3);
        const [x, y] = [users[r * 2]!, users[r * 2 + 1]!];
        const [ax, ay] = await Promise.all([
          http(nodeUrl(0), 'POST', `/api/events/${ev.eventId}/holds`, { token: x.token, body: { seatIds: seats } }),
          http(nodeUrl(1), 'POST', `/api/events/${ev.eventId}/holds`, { token: y.token, body: { seatIds: [...seats].reverse() } }),
        ]);
        return { seats, ax, ay };
      }),
    );
    for (const { seats, ax, ay } of results) {
      const statuses = [ax.status, ay.status].sort();
      expect(statuses).toEqual([201, 409]);
      const winner = ax.status === 201 ? ax : ay;
      const loser = ax.status === 201 ? ay : ax;
      expect(loser.body.error.code).toBe('SEAT_UNAVAILABLE');
      const holdId = (await env.db('holds').where({ token: winner.body.holdToken }).first()).id;
      const rows = await env.db('event_seats').where({ event_id: ev.eventId }).whereIn('seat_id', seats);
      expect(rows.every((row) => row.status === 'held' && row.hold_id === holdId)).toBe(true);
    }
    // The loser's hold rows never committed.
    const [{ n }] = await env.db('holds').where({ event_id: ev.eventId }).whereIn('user_id', users.map((u) => u.id)).count({ n: '*' });
    expect(Number(n)).toBe(rounds);
  });

  it('two racing bookings of one hold with different keys book it once', async () => {
    const [user] = await createUsers(env, 1);
    const seat = ev.seatIds[90]!;
    const held = await http(nodeUrl(0), 'POST', `/api/events/${ev.eventId}/holds`, { token: user!.token, body: { seatIds: [seat] } });
    const attempts = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        http(nodeUrl(i), 'POST', '/api/bookings', { token: user!.token, body: { holdToken: held.body.holdToken }, headers: { 'Idempotency-Key': randomUUID() } }),
      ),
    );
    expect(attempts.filter((a) => a.status === 201)).toHaveLength(1);
    expect(attempts.filter((a) => a.status !== 201).every((a) => a.status === 409)).toBe(true);
    const active = await env.db('booking_seats').where({ event_id: ev.eventId, seat_id: seat }).whereNotNull('active');
    expect(active).toHaveLength(1);
  });

  it('racing bookings with the same idempotency key return the same booking', async () => {
    const [user] = await createUsers(env, 1);
    const held = await http(nodeUrl(0), 'POST', `/api/events/${ev.eventId}/holds`, { token: user!.token, body: { seatIds: [ev.seatIds[91]!] } });
    const key = randomUUID();
    const attempts = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        http(nodeUrl(i), 'POST', '/api/bookings', { token: user!.token, body: { holdToken: held.body.holdToken }, headers: { 'Idempotency-Key': key } }),
      ),
    );
    expect(attempts.every((a) => a.status === 201 || a.status === 200)).toBe(true);
    expect(new Set(attempts.map((a) => a.body.id)).size).toBe(1);
    expect(attempts.filter((a) => a.status === 201)).toHaveLength(1);
  });

  it('When code tried to book a seat twice, then the unique index refuses the second active booking', async () => {
    const [user] = await createUsers(env, 1);
    const seat = ev.seatIds[0]!;
    const held = await http(nodeUrl(0), 'POST', `/api/events/${ev.eventId}/holds`, { token: user!.token, body: { seatIds: [seat] } });
    const booked = await http(nodeUrl(1), 'POST', '/api/bookings', { token: user!.token, body: { holdToken: held.body.holdToken }, headers: { 'Idempotency-Key': randomUUID() } });
    expect(booked.status).toBe(201);
    await expect(env.db('booking_seats').insert({ booking_id: booked.body.id, event_id: ev.eventId, seat_id: seat, price_cents: 1, active: true })).rejects.toMatchObject({ errno: 1062 });
    // A cancelled booking's row (active NULL) does not collide: the index allows any number of those.
    await env.db('booking_seats').insert({ booking_id: booked.body.id, event_id: ev.eventId, seat_id: seat, price_cents: 1, active: null });
  });

  it('When holds, releases, bookings and cancellations race over two nodes, then no seat is in two holds or bookings and versions only grow', async () => {
    const users = await createUsers(env, 30);
    const seats = ev.seatIds.slice(0, 10);
    // Each user: hold a seat (many collide), then book, release or cancel after booking, on alternating nodes.
    await Promise.all(
      users.map(async (u, i) => {
        const held = await http(nodeUrl(i), 'POST', `/api/events/${ev.eventId}/holds`, { token: u.token, body: { seatIds: [seats[i % seats.length]!] } });
        if (held.status !== 201) return;
        if (i % 3 === 0) return void (await http(nodeUrl(i + 1), 'DELETE', `/api/holds/${held.body.holdToken}`, { token: u.token }));
        const booked = await http(nodeUrl(i + 1), 'POST', '/api/bookings', { token: u.token, body: { holdToken: held.body.holdToken }, headers: { 'Idempotency-Key': randomUUID() } });
        if (booked.status === 201 && i % 3 === 1) await http(nodeUrl(i), 'DELETE', `/api/bookings/${booked.body.id}`, { token: u.token });
      }),
    );
    const [{ n }] = await env.db('seat_changes').where({ event_id: ev.eventId }).count({ n: '*' });
    expect(Number(n)).toBeGreaterThanOrEqual(seats.length); // the race really happened
    const doubleBooked = await env.db('booking_seats').where({ event_id: ev.eventId }).whereNotNull('active').groupBy('seat_id').havingRaw('count(*) > 1').select('seat_id');
    expect(doubleBooked).toEqual([]);
    // Every held seat belongs to an active hold of the same event; every booked seat to a confirmed booking.
    const orphanHeld = await env.db('event_seats as es').leftJoin('holds as h', 'h.id', 'es.hold_id').where('es.event_id', ev.eventId).where('es.status', 'held').where((q) => q.whereNull('h.id').orWhereNot('h.status', 'active').orWhereRaw('h.event_id <> es.event_id'));
    expect(orphanHeld).toEqual([]);
    const orphanBooked = await env.db('event_seats as es').leftJoin('bookings as b', 'b.id', 'es.booking_id').where('es.event_id', ev.eventId).where('es.status', 'booked').where((q) => q.whereNull('b.id').orWhereNot('b.status', 'confirmed'));
    expect(orphanBooked).toEqual([]);
    // Versions in the log strictly increase per seat.
    const log = await env.db('seat_changes').where({ event_id: ev.eventId }).orderBy('id').select('seat_id', 'version');
    const last = new Map<number, number>();
    for (const c of log) {
      expect(c.version).toBeGreaterThan(last.get(c.seat_id) ?? 1);
      last.set(c.seat_id, c.version);
    }
  });
});
