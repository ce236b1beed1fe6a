import { mysqlDialects, describeEach } from '../helpers/dialects';
import { createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { book, settle } from '../helpers/waitlist';
import { until, watch } from '../helpers/sockets';
import type { WaitlistOffer } from '../../packages/client/src';

describeEach(mysqlDialects(), 'waitlist across two nodes on %s', (dialect) => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ dialect, nodes: 2, redis: true, poolMax: 4 });
  });
  afterAll(() => env.stop());

  it('makes exactly one offer per freed seat when both nodes react at once', async () => {
    const [node0, node1] = env.nodes as [TestEnv['nodes'][0], TestEnv['nodes'][0]];
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 6, maxSeatsPerOrder: 6, maxSeatsPerUser: 6 });
    const [buyer, ...waiting] = await createUsers(env, 9);
    const bookingId = await book(node0.url, ev.eventId, buyer!, ev.seatIds);
    for (const u of waiting) {
      const res = await http(node0.url, 'POST', `/api/events/${ev.eventId}/waitlist`, { token: u.token, body: { partySize: 1 } });
      expect(res.status).toBe(201);
    }
    // The first waiting user watches through node 1; the offer is made by whichever node wins.
    const w = watch(node1.url, ev.eventId, { token: waiting[0]!.token });
    const offers: WaitlistOffer[] = [];
    w.socket.on('waitlist:offer', (o) => offers.push(o));
    await w.ready;
    try {
      const cancelled = await http(node0.url, 'DELETE', `/api/bookings/${bookingId}`, { token: buyer!.token });
      expect(cancelled.status).toBe(200);
      // Both nodes (and node 0's own trigger) match the same six freed seats at the same moment.
      await Promise.all([node0.services.waitlist.process(ev.eventId), node1.services.waitlist.process(ev.eventId), node1.services.waitlist.process(ev.eventId)]);
      await settle(env);

      const rows = await env.db('waitlist_entries').where({ event_id: ev.eventId }).orderBy('id');
      expect(rows.map((e) => e.status)).toEqual(['offered', 'offered', 'offered', 'offered', 'offered', 'offered', 'waiting', 'waiting']);
      const holds = await env.db('holds').where({ event_id: ev.eventId, source: 'waitlist' });
      expect(holds).toHaveLength(6);
      const seats = await env.db('event_seats').where({ event_id: ev.eventId }).select('seat_id', 'status', 'hold_id');
      expect(seats.every((s) => s.status === 'held')).toBe(true);
      expect(new Set(seats.map((s) => s.hold_id)).size).toBe(6); // each seat in its own offer, none offered twice
      expect(new Set(rows.slice(0, 6).map((r) => r.offer_hold_id))).toEqual(new Set(holds.map((h) => h.id)));
      // Every seat went held exactly once after the cancellation.
      const offersLogged = await env.db('seat_changes').where({ event_id: ev.eventId, reason: 'waitlist_offer' });
      expect(offersLogged).toHaveLength(6);
      await until(() => offers.length === 1, 5000, 'waitlist:offer through Redis');
      expect(offers[0]!.entryId).toBe(rows[0].id);
    } finally {
      w.close();
    }
  });
});
