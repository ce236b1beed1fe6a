import { randomUUID } from 'node:crypto';
import { testDialects, describeEach } from '../helpers/dialects';
import { createUsers, seedEvent, startTestEnv, type SeededEvent, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { book, settle, type User } from '../helpers/waitlist';
import { send, until, watch } from '../helpers/sockets';
import type { WaitlistOffer } from '../../packages/client/src';

describeEach(testDialects(), 'waitlist on %s', (dialect) => {
  let env: TestEnv;
  let url: string;
  let buyer: User;
  let users: User[];
  let staff: User;

  beforeAll(async () => {
    env = await startTestEnv({ dialect });
    url = env.nodes[0]!.url;
    [buyer, ...users] = await createUsers(env, 9);
    [staff] = await createUsers(env, 1, 'box_office');
  });
  afterAll(() => env.stop());

  /** A sold-out event: one row of `seats`, all booked by `buyer` in one booking. */
  async function soldOut(seats = 4): Promise<SeededEvent & { bookingId: number }> {
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: seats, maxSeatsPerOrder: seats, maxSeatsPerUser: seats, holdTtlSeconds: 300 });
    const bookingId = await book(url, ev.eventId, buyer, ev.seatIds);
    return { ...ev, bookingId };
  }
  const join = (eventId: number, user: User, body: unknown) => http(url, 'POST', `/api/events/${eventId}/waitlist`, { token: user.token, body });
  const me = (eventId: number, user: User) => http(url, 'GET', `/api/events/${eventId}/waitlist/me`, { token: user.token });
  const entries = (eventId: number) => env.db('waitlist_entries').where({ event_id: eventId }).orderBy('id');
  /** Waits until the event's entries have these statuses (in queue order), then asserts it. */
  const statuses = async (eventId: number, want: string[]) => {
    const now = async () => (await entries(eventId)).map((e) => e.status);
    await until(async () => JSON.stringify(await now()) === JSON.stringify(want), 5000, `statuses ${want}`).catch(() => undefined);
    expect(await now()).toEqual(want);
  };

  it('queues first come first served, offers freed seats on cancellation, and books on accept', async () => {
    const ev = await soldOut(4);
    const [u1, u2, u3] = users as [User, User, User];
    const w1 = watch(url, ev.eventId, { token: u1.token });
    const offers: WaitlistOffer[] = [];
    w1.socket.on('waitlist:offer', (o) => offers.push(o));
    await w1.ready;
    try {
      expect((await join(ev.eventId, u1, { partySize: 2, together: true })).status).toBe(201);
      expect((await join(ev.eventId, u2, { partySize: 2 })).status).toBe(201);
      const third = await join(ev.eventId, u3, { partySize: 1 });
      expect(third.body).toMatchObject({ status: 'waiting', position: 3, offer: null });
      expect((await me(ev.eventId, u1)).body).toMatchObject({ status: 'waiting', position: 1 });
      await settle(env);
      expect((await entries(ev.eventId)).map((e) => e.status)).toEqual(['waiting', 'waiting', 'waiting']); // sold out: nothing to offer

      const cancelled = await http(url, 'DELETE', `/api/bookings/${ev.bookingId}`, { token: buyer.token });
      expect(cancelled.status).toBe(200);
      await settle(env);

      // Four seats freed: u1 (2, together) then u2 (2) are offered them; u3 is next in line with position 1.
      const [e1, e2, e3] = await entries(ev.eventId);
      expect([e1.status, e2.status, e3.status]).toEqual(['offered', 'offered', 'waiting']);
      const mine = (await me(ev.eventId, u1)).body;
      expect(mine.status).toBe('offered');
      expect(mine.offer.seats.map((s: { id: number }) => s.id)).toEqual([ev.seatIds[0], ev.seatIds[1]]);
      expect((await me(ev.eventId, u3)).body).toMatchObject({ status: 'waiting', position: 1 });
      const hold = await env.db('holds').where({ id: e1.offer_hold_id }).first();
      expect(hold).toMatchObject({ user_id: u1.id, source: 'waitlist', status: 'active' });
      expect(Number(hold.expires_at)).toBe(Number(e1.offer_expires_at));
      await until(() => offers.length === 1, 5000, 'waitlist:offer on u1 socket');
      expect(offers[0]).toMatchObject({ eventId: ev.eventId, entryId: e1.id, holdToken: mine.offer.holdToken, partySize: 2 });

      // Another user cannot take or accept u1's offer.
      const foreign = await http(url, 'POST', `/api/waitlist/${e1.id}/accept`, { token: u2.token, headers: { 'Idempotency-Key': randomUUID() } });
      expect(foreign.status).toBe(404);

      const key = randomUUID();
      const accepted = await http(url, 'POST', `/api/waitlist/${e1.id}/accept`, { token: u1.token, headers: { 'Idempotency-Key': key } });
      expect(accepted.status).toBe(201);
      expect(accepted.body.seats.map((s: { seatId: number }) => s.seatId)).toEqual([ev.seatIds[0], ev.seatIds[1]]);
      const again = await http(url, 'POST', `/api/waitlist/${e1.id}/accept`, { token: u1.token, headers: { 'Idempotency-Key': key } });
      expect([again.status, again.body.id]).toEqual([200, accepted.body.id]);
      const [{ n }] = await env.db('bookings').where({ event_id: ev.eventId, status: 'confirmed' }).count({ n: '*' });
      expect(Number(n)).toBe(1);
      expect((await me(ev.eventId, u1)).body.status).toBe('accepted');

      // u2 declines: the seats go to u3 (party of 1); the other seat stays free for anyone.
      const declined = await http(url, 'POST', `/api/waitlist/${e2.id}/decline`, { token: u2.token });
      expect(declined.status).toBe(200);
      expect(declined.body.status).toBe('declined');
      await settle(env);
      const after = await entries(ev.eventId);
      expect(after.map((e) => e.status)).toEqual(['accepted', 'declined', 'offered']);
      const seats = await env.db('event_seats').where({ event_id: ev.eventId }).orderBy('seat_id').select('status', 'hold_id');
      expect(seats.map((s) => s.status)).toEqual(['booked', 'booked', 'held', 'available']);
      expect(seats[2]!.hold_id).toBe(after[2]!.offer_hold_id);
    } finally {
      w1.close();
    }
  });

  it('offers seats freed by an expired hold, and passes a lapsed offer to the next entry', async () => {
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 2, maxSeatsPerOrder: 2, holdTtlSeconds: 60 });
    const held = await http(url, 'POST', `/api/events/${ev.eventId}/holds`, { token: buyer.token, body: { seatIds: ev.seatIds } });
    expect(held.status).toBe(201);
    const [u1, u2] = users as [User, User];
    await join(ev.eventId, u1, { partySize: 2 });
    await join(ev.eventId, u2, { partySize: 1 });
    await settle(env);
    expect((await entries(ev.eventId)).map((e) => e.status)).toEqual(['waiting', 'waiting']);

    env.clock.advance(61_000);
    await env.nodes[0]!.sweep(); // the node's own sweeper may get there first: either way, once
    await statuses(ev.eventId, ['offered', 'waiting']);
    let rows = await entries(ev.eventId);

    // u1 lets the offer lapse: the sweeper expires the offer hold, the entry becomes lapsed, u2 gets a seat.
    env.clock.advance(61_000);
    expect((await me(ev.eventId, u1)).body.status).toBe('lapsed');
    await env.nodes[0]!.sweep();
    await statuses(ev.eventId, ['lapsed', 'offered']);
    rows = await entries(ev.eventId);
    expect((await env.db('holds').where({ id: rows[0].offer_hold_id }).first()).status).toBe('expired');
    const offered = await env.db('event_seats').where({ event_id: ev.eventId, hold_id: rows[1].offer_hold_id });
    expect(offered).toHaveLength(1);
    // Accepting a lapsed offer is refused.
    const late = await http(url, 'POST', `/api/waitlist/${rows[0].id}/accept`, { token: u1.token, headers: { 'Idempotency-Key': randomUUID() } });
    expect(late.status).toBe(409);
  });

  it('offers the earliest entry the seats fit: section, category and "together" are respected', async () => {
    const ev = await soldOut(4); // seats 1..4 of row A, category 'front'
    const [u1, u2, u3, u4] = users.slice(3) as [User, User, User, User];
    expect((await join(ev.eventId, u1, { partySize: 3 })).status).toBe(201); // will not fit two seats
    expect((await join(ev.eventId, u2, { partySize: 2, category: 'standard' })).status).toBe(201); // wrong category
    expect((await join(ev.eventId, u3, { partySize: 2, together: true, section: 'Main' })).status).toBe(201); // needs adjacent seats
    expect((await join(ev.eventId, u4, { partySize: 2, category: 'front' })).status).toBe(201);
    await http(url, 'DELETE', `/api/bookings/${ev.bookingId}`, { token: buyer.token });
    await settle(env);
    const rows = await entries(ev.eventId);
    // Four adjacent seats free: u1 (3) is first and fits; one seat is left, too few for u3 and u4, wrong category for u2.
    expect(rows.map((e) => e.status)).toEqual(['offered', 'waiting', 'waiting', 'waiting']);
    const heldFor1 = await env.db('event_seats').where({ event_id: ev.eventId, hold_id: rows[0].offer_hold_id }).orderBy('seat_id');
    expect(heldFor1).toHaveLength(3);
    // u1 declines: 4 seats free again, u3 (together) is the earliest that fits (u2 wants another category).
    await http(url, 'POST', `/api/waitlist/${rows[0].id}/decline`, { token: u1.token });
    await settle(env);
    const next = await entries(ev.eventId);
    expect(next.map((e) => e.status)).toEqual(['declined', 'waiting', 'offered', 'offered']);
    const together = await env.db('event_seats').where({ event_id: ev.eventId, hold_id: next[2].offer_hold_id }).orderBy('seat_id').select('seat_id');
    const numbers = together.map((s) => ev.seatIds.indexOf(s.seat_id) + 1);
    expect(numbers[1]! - numbers[0]!).toBe(1);
  });

  it('does not offer non-adjacent seats to a party that must sit together', async () => {
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 3, maxSeatsPerOrder: 3 });
    const [a, b, c] = ev.seatIds as [number, number, number];
    const b1 = await book(url, ev.eventId, buyer, [a]);
    await book(url, ev.eventId, users[5]!, [b]);
    const b3 = await book(url, ev.eventId, buyer, [c]);
    const [u1, u2] = users as [User, User];
    await join(ev.eventId, u1, { partySize: 2, together: true });
    await join(ev.eventId, u2, { partySize: 2 });
    await http(url, 'DELETE', `/api/bookings/${b1}`, { token: buyer.token });
    await http(url, 'DELETE', `/api/bookings/${b3}`, { token: buyer.token });
    await settle(env);
    const rows = await entries(ev.eventId);
    expect(rows.map((e) => e.status)).toEqual(['waiting', 'offered']);
    const held = await env.db('event_seats').where({ event_id: ev.eventId, hold_id: rows[1].offer_hold_id }).orderBy('seat_id').select('seat_id');
    expect(held.map((s) => s.seat_id)).toEqual([a, c]);
  });

  it('offers seats freed by a release and by an unblock, and works over the socket', async () => {
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 2, maxSeatsPerOrder: 2 });
    const [a, b] = ev.seatIds as [number, number];
    expect((await http(url, 'POST', `/api/admin/events/${ev.eventId}/seats/block`, { token: staff.token, body: { seatIds: [a] } })).status).toBe(200);
    const held = await http(url, 'POST', `/api/events/${ev.eventId}/holds`, { token: buyer.token, body: { seatIds: [b] } });
    expect(held.status).toBe(201);
    const [u1, u2] = users.slice(6) as [User, User];
    const w = watch(url, ev.eventId, { token: u1.token });
    const offers: WaitlistOffer[] = [];
    w.socket.on('waitlist:offer', (o) => offers.push(o));
    await w.ready;
    try {
      const joined = await send(w.socket, 'waitlist:join', { partySize: 1 });
      expect(joined).toMatchObject({ ok: true, data: { status: 'waiting', position: 1 } });
      if (!joined.ok) return;
      expect((await send(w.socket, 'waitlist:join', { partySize: 0 })).ok).toBe(false);

      // The buyer releases seat b: u1 is offered it, live.
      expect((await http(url, 'DELETE', `/api/holds/${held.body.holdToken}`, { token: buyer.token })).status).toBe(200);
      await until(() => offers.length === 1, 5000, 'waitlist:offer after release');
      expect(offers[0]!.seats.map((s) => s.id)).toEqual([b]);
      const status = await send(w.socket, 'waitlist:status', {});
      expect(status).toMatchObject({ ok: true, data: { status: 'offered', offer: { holdToken: offers[0]!.holdToken } } });
      const accepted = await send(w.socket, 'waitlist:accept', { entryId: joined.data.id, idempotencyKey: randomUUID() });
      expect(accepted).toMatchObject({ ok: true, data: { status: 'confirmed', seats: [{ seatId: b }] } });

      // Staff unblock seat a: the next waiting entry (u2) is offered it.
      expect((await join(ev.eventId, u2, { partySize: 1 })).status).toBe(201);
      await settle(env);
      expect((await me(ev.eventId, u2)).body.status).toBe('waiting');
      expect((await http(url, 'POST', `/api/admin/events/${ev.eventId}/seats/unblock`, { token: staff.token, body: { seatIds: [a] } })).status).toBe(200);
      await settle(env);
      const mine = (await me(ev.eventId, u2)).body;
      expect(mine.status).toBe('offered');
      expect(mine.offer.seats.map((s: { id: number }) => s.id)).toEqual([a]);
    } finally {
      w.close();
    }
  });

  it('lets a user leave, and shows the queue to staff only', async () => {
    const ev = await soldOut(2);
    const [u1, u2] = users as [User, User];
    await join(ev.eventId, u1, { partySize: 1 });
    const second = await join(ev.eventId, u2, { partySize: 1 });
    const left = await http(url, 'DELETE', `/api/waitlist/${second.body.id}`, { token: u2.token });
    expect(left.status).toBe(200);
    expect(left.body.status).toBe('cancelled');
    expect((await http(url, 'DELETE', `/api/waitlist/${second.body.id}`, { token: u2.token })).body.error.code).toBe('WAITLIST_NOT_ACTIVE');
    expect((await http(url, 'GET', `/api/events/${ev.eventId}/waitlist`, { token: u1.token })).status).toBe(403);
    const list = await http(url, 'GET', `/api/events/${ev.eventId}/waitlist?status=waiting`, { token: staff.token });
    expect(list.status).toBe(200);
    expect(list.body.total).toBe(1);
    expect(list.body.items[0]).toMatchObject({ user: { id: u1.id }, position: 1, status: 'waiting' });
  });

  it('rejects bad input with a clear error and changes nothing', async () => {
    const ev = await soldOut(2);
    const [u1] = users as [User];
    expect((await join(ev.eventId, u1, { partySize: 1 })).status).toBe(201);
    const state = async () => ({
      entries: await env.db('waitlist_entries').orderBy('id').select('id', 'status', 'version'),
      holds: await env.db('holds').count({ n: '*' }),
    });
    const before = await state();
    const cases: [User, unknown, number, string][] = [
      [users[1]!, { partySize: 0 }, 400, 'VALIDATION_FAILED'],
      [users[1]!, { partySize: 1, vip: true }, 400, 'VALIDATION_FAILED'],
      [users[1]!, { partySize: '2' }, 400, 'VALIDATION_FAILED'],
      [users[1]!, { partySize: 3 }, 422, 'TOO_MANY_SEATS'],
      [users[1]!, { partySize: 1, section: 'Balcony' }, 422, 'UNKNOWN_SECTION'],
      [users[1]!, { partySize: 1, category: 'gold' }, 422, 'UNKNOWN_CATEGORY'],
      [u1, { partySize: 1 }, 409, 'WAITLIST_ALREADY_JOINED'],
    ];
    for (const [user, body, status, code] of cases) {
      const res = await join(ev.eventId, user, body);
      expect([res.status, res.body.error?.code]).toEqual([status, code]);
    }
    expect((await http(url, 'POST', `/api/events/${ev.eventId}/waitlist`, { body: { partySize: 1 } })).status).toBe(401);
    expect((await join(999999, users[1]!, { partySize: 1 })).status).toBe(404);
    const entry = before.entries[before.entries.length - 1]!;
    expect((await http(url, 'POST', `/api/waitlist/${entry.id}/accept`, { token: u1.token, headers: { 'Idempotency-Key': randomUUID() } })).body.error.code).toBe('WAITLIST_NO_OFFER');
    expect((await http(url, 'POST', `/api/waitlist/${entry.id}/accept`, { token: u1.token })).status).toBe(400); // no Idempotency-Key
    expect((await http(url, 'POST', `/api/waitlist/${entry.id}/decline`, { token: u1.token })).body.error.code).toBe('WAITLIST_NO_OFFER');
    expect((await http(url, 'POST', `/api/waitlist/${entry.id}/decline`, { token: users[1]!.token })).status).toBe(404);
    expect(await state()).toEqual(before);
  });
});
