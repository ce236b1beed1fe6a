import type { BookingCancelledNotice, EventStatusNotice, HoldExpiredNotice } from '../../packages/client/src';
import { mysqlDialects, testDialects, describeEach } from '../helpers/dialects';
import { createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';
import { castOn, type Account } from '../helpers/cast';
import { http } from '../helpers/http';
import { until } from '../helpers/sockets';

async function seatRows(env: TestEnv, eventId: number) {
  return env.db('event_seats').where({ event_id: eventId }).orderBy('seat_id').select('seat_id', 'status', 'version', 'hold_id', 'booking_id');
}

describeEach(testDialects(), 'event cancellation on %s', (dialect) => {
  const cast = castOn(dialect);
  const { watch: w, holdAs, book } = cast;
  let env: TestEnv, url: string, admin: Account, clerk: Account, alice: Account, bob: Account;
  beforeAll(() => ({ env, url, admin, clerk, alice, bob } = cast));

  it('cancels an event: bookings cancelled, holds released, everyone told live, nothing can be held after', async () => {
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 5 });
    const [s0, s1, s2, s3] = ev.seatIds as [number, number, number, number];
    const booking = (await book(alice, (await holdAs(alice, ev, [s0, s1])).body.holdToken, 'event-cancel-1')).body;
    const bobHold = (await holdAs(bob, ev, [s2])).body;
    await http(url, 'POST', `/api/admin/events/${ev.eventId}/seats/block`, { token: clerk.token, body: { seatIds: [s3] } });
    const aliceSock = w(ev.eventId, alice.token);
    const bobSock = w(ev.eventId, bob.token);
    const status: EventStatusNotice[] = [];
    const bookingNotices: BookingCancelledNotice[] = [];
    const holdNotices: HoldExpiredNotice[] = [];
    bobSock.socket.on('event:status', (n) => status.push(n));
    aliceSock.socket.on('booking:cancelled', (n) => bookingNotices.push(n));
    bobSock.socket.on('hold:expired', (n) => holdNotices.push(n));
    bobSock.socket.on('booking:cancelled', (n) => bookingNotices.push(n)); // must stay silent: not Bob's booking
    await Promise.all([aliceSock.ready, bobSock.ready]);

    const version = (await env.db('events').where({ id: ev.eventId }).first()).version;
    expect((await http(url, 'POST', `/api/admin/events/${ev.eventId}/cancel`, { token: clerk.token, body: {}, headers: { 'If-Match': `"${version}"` } })).status).toBe(403);
    const stale = await http(url, 'POST', `/api/admin/events/${ev.eventId}/cancel`, { token: admin.token, body: {}, headers: { 'If-Match': `"${version + 5}"` } });
    expect(stale.status).toBe(412);
    expect((await env.db('bookings').where({ id: booking.id }).first()).status).toBe('confirmed');

    const res = await http(url, 'POST', `/api/admin/events/${ev.eventId}/cancel`, { token: admin.token, body: { reason: 'Storm' }, headers: { 'If-Match': `"${version}"` } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'cancelled', cancelledBookings: 1, releasedHolds: 1, version: version + 1 });
    expect((await env.db('bookings').where({ id: booking.id }).first()).status).toBe('cancelled');
    expect((await env.db('holds').where({ token: bobHold.holdToken }).first()).status).toBe('released');
    const rows = await seatRows(env, ev.eventId);
    expect(rows.map((r) => r.status)).toEqual(['available', 'available', 'available', 'blocked', 'available']);

    await until(() => status.length === 1 && bookingNotices.length === 1 && holdNotices.length === 1, 5000, 'cancellation notices');
    expect(status[0]).toEqual({ eventId: ev.eventId, status: 'cancelled', reason: 'Storm' });
    expect(bookingNotices[0]).toMatchObject({ bookingId: booking.id, reason: 'event_cancelled' });
    expect(holdNotices[0]).toMatchObject({ holdToken: bobHold.holdToken, seatIds: [s2], reason: 'event_cancelled' });
    await until(() => bobSock.map.seats.get(s0)?.status === 'available', 5000, 'freed seats broadcast');

    const again = await http(url, 'POST', `/api/admin/events/${ev.eventId}/cancel`, { token: admin.token, body: {}, headers: { 'If-Match': `"${version + 1}"` } });
    expect(again.status).toBe(409);
    const hold = await holdAs(bob, ev, [s0]);
    expect(hold.status).toBe(409);
    expect(hold.body.error.code).toBe('EVENT_NOT_ON_SALE');
    expect((await http(url, 'POST', `/api/admin/events/${ev.eventId}/seats/unblock`, { token: clerk.token, body: { seatIds: [s3] } })).status).toBe(409);
  });

  it('closes the waitlist: waiting and offered entries end cancelled, the offer released, no new offer or join', async () => {
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 2, holdTtlSeconds: 300 });
    const [carol] = await createUsers(env, 1, 'user');
    // Sold out to Alice; Bob waits for one seat, then Carol for two.
    const booking = (await book(alice, (await holdAs(alice, ev, ev.seatIds)).body.holdToken, 'event-cancel-waitlist')).body;
    const join = (who: Account, partySize = 1) => http(url, 'POST', `/api/events/${ev.eventId}/waitlist`, { token: who.token, body: { partySize } });
    const me = (who: Account) => http(url, 'GET', `/api/events/${ev.eventId}/waitlist/me`, { token: who.token });
    expect((await join(bob)).status).toBe(201);
    expect((await join(carol!, 2)).status).toBe(201);
    // Alice cancels: Bob, first in line, is offered one seat (a hold in his name); one seat is too few for Carol.
    expect((await http(url, 'DELETE', `/api/bookings/${booking.id}`, { token: alice.token })).status).toBe(200);
    await until(async () => (await me(bob)).body.status === 'offered', 5000, "Bob's offer");
    const offerHold = (await me(bob)).body.offer.holdToken as string;
    expect((await me(carol!)).body.status).toBe('waiting');

    const version = (await env.db('events').where({ id: ev.eventId }).first()).version;
    const res = await http(url, 'POST', `/api/admin/events/${ev.eventId}/cancel`, { token: admin.token, body: {}, headers: { 'If-Match': `"${version}"` } });
    expect(res.status).toBe(200);

    const entries = await env.db('waitlist_entries').where({ event_id: ev.eventId }).orderBy('id').select('status', 'offer_hold_id');
    expect(entries.map((e) => e.status)).toEqual(['cancelled', 'cancelled']);
    expect((await me(bob)).body).toMatchObject({ status: 'cancelled' });
    expect((await me(bob)).body.offer).toBeNull();
    expect((await me(carol!)).body).toMatchObject({ status: 'cancelled' });
    expect((await env.db('holds').where({ token: offerHold }).first()).status).toBe('released');
    expect((await seatRows(env, ev.eventId)).map((r) => r.status)).toEqual(['available', 'available']);
    // Webhook receivers that track offers hear that Bob's ended, with the reason; Carol had no offer to end.
    const offerEnds = (await env.db('outbox').where({ event_id: ev.eventId }).whereIn('type', ['waitlist.offer_made', 'waitlist.offer_accepted', 'waitlist.offer_declined', 'waitlist.offer_lapsed']).orderBy('id').select('type', 'data')).map((r) => ({
      type: r.type,
      data: JSON.parse(r.data),
    }));
    const bobEntry = await env.db('waitlist_entries').where({ event_id: ev.eventId, user_id: bob.id }).first('id', 'offer_hold_id');
    expect(offerEnds.filter((e) => e.type !== 'waitlist.offer_made')).toEqual([
      { type: 'waitlist.offer_lapsed', data: { entryId: bobEntry.id, eventId: ev.eventId, userId: bob.id, holdId: bobEntry.offer_hold_id, reason: 'event_cancelled' } },
    ]);
    const late = await join(alice);
    expect(late.status).toBe(409);
  });
});

describeEach(mysqlDialects(), 'event cancellation racing bookings on %s', (dialect) => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ dialect, nodes: 2, poolMax: 4 });
  });
  afterAll(() => env.stop());

  it('leaves no confirmed booking and no live hold behind, whatever commits around the cancellation', async () => {
    const ev = await seedEvent(env, { rows: 2, seatsPerRow: 10 });
    const [admin] = await createUsers(env, 1, 'admin');
    const buyers = await createUsers(env, 16);
    const holds = await Promise.all(
      buyers.map((b, i) => http(env.nodes[i % 2]!.url, 'POST', `/api/events/${ev.eventId}/holds`, { token: b.token, body: { seatIds: [ev.seatIds[i]] } })),
    );
    expect(holds.every((h) => h.status === 201)).toBe(true);
    const version = (await env.db('events').where({ id: ev.eventId }).first()).version;
    const [cancel, ...confirms] = await Promise.all([
      http(env.nodes[0]!.url, 'POST', `/api/admin/events/${ev.eventId}/cancel`, { token: admin!.token, body: {}, headers: { 'If-Match': `"${version}"` } }),
      // Spread the confirms over the cancellation's lifetime so some land before, during and after it.
      ...buyers.map(async (b, i) => {
        await new Promise((r) => setTimeout(r, i * 4));
        return http(env.nodes[(i + 1) % 2]!.url, 'POST', '/api/bookings', { token: b.token, body: { holdToken: holds[i]!.body.holdToken }, headers: { 'Idempotency-Key': `race-cancel-${i}` } });
      }),
    ]);
    expect(cancel!.status).toBe(200);
    // Each confirm either booked before the cancellation (and was then cancelled by it) or was refused.
    for (const c of confirms) expect([201, 409]).toContain(c.status);
    const booked = confirms.filter((c) => c.status === 201).length;
    expect(cancel!.body.cancelledBookings).toBe(booked);
    expect(cancel!.body.releasedHolds).toBe(buyers.length - booked);
    const [{ n: confirmed }] = await env.db('bookings').where({ event_id: ev.eventId, status: 'confirmed' }).count({ n: '*' });
    const [{ n: live }] = await env.db('holds').where({ event_id: ev.eventId, status: 'active' }).count({ n: '*' });
    const [{ n: active }] = await env.db('booking_seats').where({ event_id: ev.eventId }).whereNotNull('active').count({ n: '*' });
    expect([Number(confirmed), Number(live), Number(active)]).toEqual([0, 0, 0]);
    const statuses = await env.db('event_seats').where({ event_id: ev.eventId }).distinct('status');
    expect(statuses.map((r) => r.status)).toEqual(['available']);
  });
});
