import type { SeatsChanged } from '../../packages/client/src';
import { mysqlDialects, describeEach } from '../helpers/dialects';
import { createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { until, watch } from '../helpers/sockets';

describeEach(mysqlDialects(), 'box office races on %s', (dialect) => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ dialect, nodes: 2, poolMax: 4 });
  });
  afterAll(() => env.stop());

  it('a block, a reseat and many buyers racing for the same seats: each seat ends with exactly one winner', async () => {
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 6, maxSeatsPerUser: 10 });
    const [clerk] = await createUsers(env, 1, 'box_office');
    const buyers = await createUsers(env, 12);
    const [owner] = await createUsers(env, 1);
    const [s0, s1, , , , s5] = ev.seatIds as [number, number, number, number, number, number];
    const h = await http(env.nodes[0]!.url, 'POST', `/api/events/${ev.eventId}/holds`, { token: owner!.token, body: { seatIds: [s5] } });
    const booking = (await http(env.nodes[0]!.url, 'POST', '/api/bookings', { token: owner!.token, body: { holdToken: h.body.holdToken }, headers: { 'Idempotency-Key': 'race-key-01' } })).body;

    const url = (i: number) => env.nodes[i % 2]!.url;
    const results = await Promise.all([
      http(url(0), 'POST', `/api/admin/events/${ev.eventId}/seats/block`, { token: clerk!.token, body: { seatIds: [s0] } }),
      http(url(1), 'POST', `/api/admin/bookings/${booking.id}/reseat`, { token: clerk!.token, body: { seatIds: [s1] } }),
      ...buyers.map((b, i) => http(url(i), 'POST', `/api/events/${ev.eventId}/holds`, { token: b.token, body: { seatIds: [i % 2 === 0 ? s0 : s1] } })),
    ]);
    expect(results.every((r) => r.status === 200 || r.status === 201 || r.status === 409)).toBe(true);
    const winsFor = (seat: number) =>
      results.filter((r, i) => (r.status === 200 || r.status === 201) && (i === 0 ? seat === s0 : i === 1 ? seat === s1 : (i - 2) % 2 === (seat === s0 ? 0 : 1))).length;
    expect(winsFor(s0)).toBe(1);
    expect(winsFor(s1)).toBe(1);
    // The log agrees with the seats: replaying seat_changes gives each seat's final status and version.
    for (const seat of [s0, s1, s5]) {
      const row = await env.db('event_seats').where({ event_id: ev.eventId, seat_id: seat }).first();
      const changes = await env.db('seat_changes').where({ event_id: ev.eventId, seat_id: seat }).orderBy('id');
      expect(changes[changes.length - 1]).toMatchObject({ to_status: row.status, version: row.version });
      expect(changes.map((c) => c.version)).toEqual(changes.map((_, i) => i + 2));
    }
    const [{ n }] = await env.db('booking_seats').where({ event_id: ev.eventId }).whereNotNull('active').count({ n: '*' });
    expect(Number(n)).toBe(1);
  });
});

describeEach(mysqlDialects(), 'box office across nodes over Redis on %s', (dialect) => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ dialect, nodes: 2, redis: true });
  });
  afterAll(() => env.stop());

  it('a hold made on one node reaches staff on another with its holder, and buyers there without', async () => {
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 3 });
    const [clerk] = await createUsers(env, 1, 'box_office');
    const [buyer, watcherUser] = await createUsers(env, 2);
    const staff = watch(env.nodes[1]!.url, ev.eventId, { token: clerk!.token });
    const other = watch(env.nodes[1]!.url, ev.eventId, { token: watcherUser!.token });
    const seen: SeatsChanged[] = [];
    other.socket.on('seats:changed', (b) => seen.push(b));
    try {
      await Promise.all([staff.ready, other.ready]);
      const h = await http(env.nodes[0]!.url, 'POST', `/api/events/${ev.eventId}/holds`, { token: buyer!.token, body: { seatIds: [ev.seatIds[0]] } });
      expect(h.status).toBe(201);
      await until(() => staff.map.seats.get(ev.seatIds[0]!)?.holder?.userId === buyer!.id, 5000, 'staff on node 1 sees the holder');
      await until(() => other.map.seats.get(ev.seatIds[0]!)?.status === 'held', 5000, 'buyer on node 1 sees the hold');
      expect(JSON.stringify(seen)).not.toContain(buyer!.email);
      expect(JSON.stringify(seen)).not.toContain('holder');
    } finally {
      staff.close();
      other.close();
    }
  });
});
