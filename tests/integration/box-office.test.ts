import type { BookingCancelledNotice, SeatsChanged, SeatsSnapshot } from '../../packages/client/src';
import { testDialects, describeEach } from '../helpers/dialects';
import { seedEvent, type TestEnv } from '../helpers/env';
import { castOn, type Account } from '../helpers/cast';
import { http } from '../helpers/http';
import { until } from '../helpers/sockets';

async function seatRows(env: TestEnv, eventId: number) {
  return env.db('event_seats').where({ event_id: eventId }).orderBy('seat_id').select('seat_id', 'status', 'version', 'hold_id', 'booking_id');
}
async function changeCount(env: TestEnv, eventId: number): Promise<number> {
  const [{ n }] = await env.db('seat_changes').where({ event_id: eventId }).count({ n: '*' });
  return Number(n);
}

describeEach(testDialects(), 'box office on %s', (dialect) => {
  const cast = castOn(dialect);
  const { watch: w, holdAs, book } = cast;
  let env: TestEnv, url: string, admin: Account, clerk: Account, alice: Account, bob: Account;
  beforeAll(() => ({ env, url, admin, clerk, alice, bob } = cast));

  it('shows holders to box office only: staff snapshot and broadcasts carry them, buyers never do', async () => {
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 4 });
    const buyerSeen: SeatsChanged[] = [];
    const staffSeen: SeatsChanged[] = [];
    const buyer = w(ev.eventId, bob.token);
    const anon = w(ev.eventId);
    const staff = w(ev.eventId, clerk.token);
    buyer.socket.on('seats:changed', (b) => buyerSeen.push(b));
    anon.socket.on('seats:changed', (b) => buyerSeen.push(b));
    staff.socket.on('seats:changed', (b) => staffSeen.push(b));
    await Promise.all([buyer.ready, anon.ready, staff.ready]);

    const h = await holdAs(alice, ev, [ev.seatIds[0]!]);
    expect(h.status).toBe(201);
    const walkIn = await http(url, 'POST', `/api/admin/events/${ev.eventId}/holds`, {
      token: clerk.token,
      body: { seatIds: [ev.seatIds[1]], customer: { name: 'Walk In', email: 'walk@in.example' } },
    });
    expect(walkIn.status).toBe(201);

    await until(() => staff.map.seats.get(ev.seatIds[1]!)?.status === 'held' && staff.map.seats.get(ev.seatIds[0]!)?.status === 'held', 5000, 'staff sees both holds');
    await until(() => buyer.map.seats.get(ev.seatIds[1]!)?.status === 'held' && anon.map.seats.get(ev.seatIds[1]!)?.status === 'held', 5000, 'buyers see both holds');
    expect(staff.map.seats.get(ev.seatIds[0]!)!.holder).toEqual({ userId: alice.id, name: 'user 0', email: alice.email });
    expect(staff.map.seats.get(ev.seatIds[1]!)!.holder).toEqual({ userId: clerk.id, name: 'Walk In', email: 'walk@in.example' });
    // Nobody but staff ever receives an identity, nor a string that contains one.
    const buyerText = JSON.stringify(buyerSeen);
    expect(buyerSeen.length).toBeGreaterThan(0);
    expect(buyerText).not.toContain('holder');
    expect(buyerText).not.toContain('holdToken');
    expect(buyerText).not.toContain(h.body.holdToken);
    expect(buyerText).not.toContain(alice.email);
    expect(buyerText).not.toContain('Walk In');
    expect(JSON.stringify(staffSeen)).toContain('Walk In');
    expect(staff.map.seats.get(ev.seatIds[1]!)!.holdToken).toBe(walkIn.body.holdToken);

    // REST: the staff snapshot has holders; the public one does not; a buyer cannot read the staff one.
    const staffSnap = await http(url, 'GET', `/api/admin/events/${ev.eventId}/seats`, { token: clerk.token });
    expect(staffSnap.status).toBe(200);
    expect(staffSnap.body.seats.find((s: { id: number }) => s.id === ev.seatIds[0]).holder.email).toBe(alice.email);
    const pub = await http(url, 'GET', `/api/events/${ev.eventId}/seats`, { token: bob.token });
    expect(JSON.stringify(pub.body)).not.toContain('holder');
    expect((await http(url, 'GET', `/api/admin/events/${ev.eventId}/seats`, { token: bob.token })).status).toBe(403);

    // A staff socket joining now gets holders in its snapshot; a buyer's snapshot has none.
    const lateStaff = w(ev.eventId, admin.token);
    const lateBuyer = w(ev.eventId, bob.token);
    const snaps: SeatsSnapshot[] = [];
    lateBuyer.socket.on('seats:snapshot', (s) => snaps.push(s));
    await Promise.all([lateStaff.ready, lateBuyer.ready]);
    expect(lateStaff.map.seats.get(ev.seatIds[0]!)!.holder?.userId).toBe(alice.id);
    expect(JSON.stringify(snaps)).not.toContain('holder');
  });

  it('reads holders only while staff watch; a staff socket joining mid-sale gets holders from then on, buyers never', async () => {
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 4 });
    const [s0, s1] = [ev.seatIds[0]!, ev.seatIds[1]!];
    const spy = jest.spyOn(env.nodes[0]!.services.staffView, 'withHolders');
    try {
      const buyer = w(ev.eventId, bob.token);
      const buyerSeen: SeatsChanged[] = [];
      buyer.socket.on('seats:changed', (b) => buyerSeen.push(b));
      await buyer.ready;
      const h0 = await holdAs(alice, ev, [s0]);
      expect(h0.status).toBe(201);
      await until(() => buyer.map.seats.get(s0)?.status === 'held', 5000, 'buyer sees the first hold');
      // One node, nobody in the staff room: the batch went out without a holder read.
      expect(spy).not.toHaveBeenCalled();

      const staff = w(ev.eventId, clerk.token);
      await staff.ready;
      expect(staff.map.seats.get(s0)!.holder?.userId).toBe(alice.id); // from its staff snapshot
      const h1 = await holdAs(bob, ev, [s1]);
      expect(h1.status).toBe(201);
      await until(() => staff.map.seats.get(s1)?.holder?.userId === bob.id, 5000, 'staff sees the later hold with its holder');
      expect(staff.map.seats.get(s1)!.holdToken).toBe(h1.body.holdToken);
      expect(spy).toHaveBeenCalled();
      await until(() => buyer.map.seats.get(s1)?.status === 'held', 5000, 'buyer sees the later hold');
      const buyerText = JSON.stringify(buyerSeen);
      expect(buyerSeen.length).toBeGreaterThanOrEqual(2);
      expect(buyerText).not.toContain('holder');
      expect(buyerText).not.toContain('holdToken');
      expect(buyerText).not.toContain(h0.body.holdToken);
      expect(buyerText).not.toContain(alice.email);
    } finally {
      spy.mockRestore();
    }
  });

  it('holds and books for a walk-in customer, recording the clerk as actor in seat_changes', async () => {
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 4 });
    const hold = await http(url, 'POST', `/api/admin/events/${ev.eventId}/holds`, {
      token: clerk.token,
      body: { seatIds: [ev.seatIds[0], ev.seatIds[1]], customer: { name: 'Carla Cash' } },
    });
    expect(hold.status).toBe(201);
    const booked = await http(url, 'POST', `/api/admin/holds/${hold.body.holdToken}/book`, { token: clerk.token, headers: { 'Idempotency-Key': 'walkin-0001' } });
    expect(booked.status).toBe(201);
    expect(booked.body).toMatchObject({ status: 'confirmed', totalCents: 10000, customer: { name: 'Carla Cash', email: null } });
    expect(booked.body.reference).toMatch(/^EV-/);
    expect(booked.body.seats.map((s: { label: string }) => s.label)).toEqual(['Main A-1', 'Main A-2']);
    const again = await http(url, 'POST', `/api/admin/holds/${hold.body.holdToken}/book`, { token: clerk.token, headers: { 'Idempotency-Key': 'walkin-0001' } });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(booked.body.id);

    const changes = await http(url, 'GET', `/api/admin/events/${ev.eventId}/changes?order=oldest`, { token: clerk.token });
    expect(changes.status).toBe(200);
    expect(changes.body.items.map((c: { reason: string; actor: { id: number } }) => [c.reason, c.actor.id])).toEqual([
      ['box_office_hold', clerk.id],
      ['box_office_hold', clerk.id],
      ['book', clerk.id],
      ['book', clerk.id],
    ]);

    // Buyers cannot use box-office routes; nothing changes.
    const before = await changeCount(env, ev.eventId);
    const denied = await http(url, 'POST', `/api/admin/events/${ev.eventId}/holds`, { token: alice.token, body: { seatIds: [ev.seatIds[2]], customer: { name: 'X' } } });
    expect(denied.status).toBe(403);
    const bad = await http(url, 'POST', `/api/admin/events/${ev.eventId}/holds`, { token: clerk.token, body: { seatIds: [ev.seatIds[2]], customer: { name: '' } } });
    expect(bad.status).toBe(400);
    const badEmail = await http(url, 'POST', `/api/admin/events/${ev.eventId}/holds`, { token: clerk.token, body: { seatIds: [ev.seatIds[2]], customer: { name: 'Y', email: 'nope' } } });
    expect(badEmail.status).toBe(400);
    expect(await changeCount(env, ev.eventId)).toBe(before);
  });

  it("force-releases a buyer's hold; the buyer can no longer book it", async () => {
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 4 });
    const h = await holdAs(alice, ev, [ev.seatIds[0]!, ev.seatIds[1]!]);
    const denied = await http(url, 'DELETE', `/api/admin/holds/${h.body.holdToken}`, { token: bob.token });
    expect(denied.status).toBe(403);
    const rel = await http(url, 'DELETE', `/api/admin/holds/${h.body.holdToken}`, { token: clerk.token });
    expect(rel.status).toBe(200);
    expect(rel.body.released.sort()).toEqual([ev.seatIds[0], ev.seatIds[1]].sort());
    const rows = await seatRows(env, ev.eventId);
    expect(rows.filter((r) => r.status !== 'available')).toEqual([]);
    const last = await http(url, 'GET', `/api/admin/events/${ev.eventId}/changes?limit=1`, { token: clerk.token });
    expect(last.body.items[0]).toMatchObject({ reason: 'force_release', actor: { id: clerk.id, role: 'box_office' } });
    expect(last.body.nextBefore).toEqual(expect.any(Number));
    const late = await book(alice, h.body.holdToken, 'after-release-1');
    expect(late.status).toBe(409);
  });

  it('blocks and unblocks seats live, all or nothing', async () => {
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 4 });
    const buyer = w(ev.eventId, bob.token);
    await buyer.ready;
    const [s0, s1, s2] = ev.seatIds as [number, number, number];
    await holdAs(alice, ev, [s2]);
    const before = await seatRows(env, ev.eventId);
    const conflict = await http(url, 'POST', `/api/admin/events/${ev.eventId}/seats/block`, { token: clerk.token, body: { seatIds: [s0, s2], reason: 'house' } });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error).toMatchObject({ code: 'SEAT_UNAVAILABLE', details: { seatIds: [s2] } });
    const unknown = await http(url, 'POST', `/api/admin/events/${ev.eventId}/seats/block`, { token: clerk.token, body: { seatIds: [s0, 999999] } });
    expect(unknown.status).toBe(404);
    const badReason = await http(url, 'POST', `/api/admin/events/${ev.eventId}/seats/block`, { token: clerk.token, body: { seatIds: [s0], reason: 'because' } });
    expect(badReason.status).toBe(400);
    const byUser = await http(url, 'POST', `/api/admin/events/${ev.eventId}/seats/block`, { token: alice.token, body: { seatIds: [s0] } });
    expect(byUser.status).toBe(403);
    expect(await seatRows(env, ev.eventId)).toEqual(before);

    const blocked = await http(url, 'POST', `/api/admin/events/${ev.eventId}/seats/block`, { token: clerk.token, body: { seatIds: [s0, s1], reason: 'broken' } });
    expect(blocked.status).toBe(200);
    expect(blocked.body.seats.map((s: { status: string }) => s.status)).toEqual(['blocked', 'blocked']);
    await until(() => buyer.map.seats.get(s0)?.status === 'blocked' && buyer.map.seats.get(s1)?.status === 'blocked', 5000, 'buyer sees blocked seats');
    const tryHold = await holdAs(bob, ev, [s0]);
    expect(tryHold.status).toBe(409);
    expect(tryHold.body.error.details.seatIds).toEqual([s0]);

    const notBlocked = await http(url, 'POST', `/api/admin/events/${ev.eventId}/seats/unblock`, { token: clerk.token, body: { seatIds: [s0, s2] } });
    expect(notBlocked.status).toBe(409);
    expect(notBlocked.body.error).toMatchObject({ code: 'SEAT_NOT_BLOCKED', details: { seatIds: [s2] } });
    expect((await env.db('event_seats').where({ event_id: ev.eventId, seat_id: s0 }).first()).status).toBe('blocked');

    const unblocked = await http(url, 'POST', `/api/admin/events/${ev.eventId}/seats/unblock`, { token: admin.token, body: { seatIds: [s0] } });
    expect(unblocked.status).toBe(200);
    await until(() => buyer.map.seats.get(s0)?.status === 'available', 5000, 'buyer sees unblocked seat');
    const history = await http(url, 'GET', `/api/admin/events/${ev.eventId}/seats/${s0}/history`, { token: clerk.token });
    expect(history.body.items.map((c: { from: string; to: string; reason: string }) => `${c.from}>${c.to}:${c.reason}`)).toEqual([
      'available>blocked:block_broken',
      'blocked>available:unblock',
    ]);
    expect(history.body.items[0].label).toBe('Main A-1');
  });

  it('moves a booking to other seats atomically, repricing it, and refuses a move onto taken seats', async () => {
    const ev = await seedEvent(env, { rows: 2, seatsPerRow: 3 }); // row A front 5000, row B standard 3000
    const [a1, a2, a3, b1, b2] = ev.seatIds as [number, number, number, number, number];
    const h = await holdAs(alice, ev, [a1, a2]);
    const booking = (await book(alice, h.body.holdToken, 'reseat-key-1')).body;
    expect(booking.totalCents).toBe(10000);
    await holdAs(bob, ev, [b2]);
    const before = await seatRows(env, ev.eventId);
    const taken = await http(url, 'POST', `/api/admin/bookings/${booking.id}/reseat`, { token: clerk.token, body: { seatIds: [b1, b2] } });
    expect(taken.status).toBe(409);
    expect(taken.body.error.details.seatIds).toEqual([b2]);
    const byUser = await http(url, 'POST', `/api/admin/bookings/${booking.id}/reseat`, { token: alice.token, body: { seatIds: [b1, a3] } });
    expect(byUser.status).toBe(403);
    expect(await seatRows(env, ev.eventId)).toEqual(before);

    const moved = await http(url, 'POST', `/api/admin/bookings/${booking.id}/reseat`, { token: clerk.token, body: { seatIds: [a2, b1] } });
    expect(moved.status).toBe(200);
    expect(moved.body.seats.map((s: { seatId: number }) => s.seatId)).toEqual([a2, b1]);
    expect(moved.body.totalCents).toBe(8000);
    expect(moved.body.reference).toBe(booking.reference);
    const rows = new Map((await seatRows(env, ev.eventId)).map((r) => [r.seat_id, r]));
    expect(rows.get(a1)).toMatchObject({ status: 'available', booking_id: null });
    expect(rows.get(a2)).toMatchObject({ status: 'booked', booking_id: booking.id });
    expect(rows.get(b1)).toMatchObject({ status: 'booked', booking_id: booking.id });
    const active = await env.db('booking_seats').where({ booking_id: booking.id }).whereNotNull('active').orderBy('seat_id').pluck('seat_id');
    expect(active).toEqual([a2, b1]);
    // The buyer sees the move on their own booking.
    const mine = await http(url, 'GET', `/api/bookings/${booking.id}`, { token: alice.token });
    expect(mine.body.totalCents).toBe(8000);
  });

  it('lets a buyer cancel their own booking before the start, staff any booking, and tells the booker live', async () => {
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 4, startsInMs: 3600_000 });
    const [s0, s1] = ev.seatIds as [number, number];
    const own = (await book(alice, (await holdAs(alice, ev, [s0])).body.holdToken, 'own-cancel-1')).body;
    const other = (await book(alice, (await holdAs(alice, ev, [s1])).body.holdToken, 'own-cancel-2')).body;
    expect((await http(url, 'DELETE', `/api/bookings/${own.id}`, { token: bob.token })).status).toBe(404);
    expect((await http(url, 'DELETE', `/api/admin/bookings/${own.id}`, { token: bob.token })).status).toBe(403);
    const cancelled = await http(url, 'DELETE', `/api/bookings/${own.id}`, { token: alice.token });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect((await http(url, 'DELETE', `/api/bookings/${own.id}`, { token: alice.token })).status).toBe(409);

    env.clock.advance(2 * 3600_000); // the event has started
    try {
      const late = await http(url, 'DELETE', `/api/bookings/${other.id}`, { token: alice.token });
      expect(late.status).toBe(403);
      expect((await env.db('bookings').where({ id: other.id }).first()).status).toBe('confirmed');
      const booker = w(ev.eventId, alice.token);
      const notices: BookingCancelledNotice[] = [];
      booker.socket.on('booking:cancelled', (n) => notices.push(n));
      await booker.ready;
      const byStaff = await http(url, 'DELETE', `/api/admin/bookings/${other.id}`, { token: clerk.token });
      expect(byStaff.status).toBe(200);
      await until(() => notices.length === 1, 5000, 'booking:cancelled');
      expect(notices[0]).toEqual({ eventId: ev.eventId, bookingId: other.id, reference: other.reference, reason: 'cancelled_by_staff' });
      await until(() => booker.map.seats.get(s1)?.status === 'available', 5000, 'seat freed live');
    } finally {
      env.clock.advance(-2 * 3600_000);
    }
  });

});
