import { randomUUID } from 'node:crypto';
import { describeEach, testDialects } from '../helpers/dialects';
import { createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { until, watch } from '../helpers/sockets';
import type { HoldExpiredNotice } from '../../packages/client/src';

/**
 * Issue 14, item 5: the small things a newcomer hit. Each test builds its own event and users.
 */
type User = { id: number; token: string };

describeEach(testDialects(), 'newcomer fixes on %s', (dialect) => {
  let env: TestEnv;
  let url: string;

  beforeAll(async () => {
    env = await startTestEnv({ dialect });
    url = env.nodes[0]!.url;
  });
  afterAll(() => env.stop());

  const settle = () => Promise.all(env.nodes.map((n) => n.services.waitlist.idle()));
  const holdSeats = (eventId: number, user: User, seatIds: number[]) => http(url, 'POST', `/api/events/${eventId}/holds`, { token: user.token, body: { seatIds } });
  async function book(eventId: number, user: User, seatIds: number[]): Promise<number> {
    const held = await holdSeats(eventId, user, seatIds);
    expect(held.status).toBe(201);
    const booked = await http(url, 'POST', '/api/bookings', { token: user.token, body: { holdToken: held.body.holdToken }, headers: { 'Idempotency-Key': randomUUID() } });
    expect(booked.status).toBe(201);
    return booked.body.id;
  }

  it('When users join a waitlist while seats are free, then no reply says position 0 (1 is next; null once offered)', async () => {
    const ev = await seedEvent(env, { rows: 2, seatsPerRow: 4 });
    const users = await createUsers(env, 6);
    for (const u of users) {
      const joined = await http(url, 'POST', `/api/events/${ev.eventId}/waitlist`, { token: u.token, body: { partySize: 1 } });
      expect(joined.status).toBe(201);
      if (joined.body.status === 'waiting') expect(joined.body.position).toBeGreaterThanOrEqual(1);
      else expect(joined.body.position).toBeNull();
      const mine = await http(url, 'GET', `/api/events/${ev.eventId}/waitlist/me`, { token: u.token });
      if (mine.body.status === 'waiting') expect(mine.body.position).toBeGreaterThanOrEqual(1);
      else expect(mine.body.position).toBeNull();
    }
    await settle();
  });

  it('When best available names an unknown category or section, then it answers 422 like the waitlist does', async () => {
    const ev = await seedEvent(env, { rows: 2, seatsPerRow: 4 });
    const [u] = await createUsers(env, 1);
    const best = (body: unknown) => http(url, 'POST', `/api/events/${ev.eventId}/holds/best`, { token: u!.token, body });
    const join = (body: unknown) => http(url, 'POST', `/api/events/${ev.eventId}/waitlist`, { token: u!.token, body });

    const badCategory = await best({ quantity: 2, category: 'nope' });
    expect(badCategory.status).toBe(422);
    expect(badCategory.body.error).toMatchObject({ code: 'UNKNOWN_CATEGORY', details: { category: 'nope' } });
    const badSection = await best({ quantity: 2, section: 'Balcony' });
    expect(badSection.status).toBe(422);
    expect(badSection.body.error).toMatchObject({ code: 'UNKNOWN_SECTION', details: { section: 'Balcony' } });
    expect((await join({ partySize: 2, category: 'nope' })).body.error.code).toBe('UNKNOWN_CATEGORY');
    expect((await join({ partySize: 2, section: 'Balcony' })).body.error.code).toBe('UNKNOWN_SECTION');
    expect(await env.db('holds').where({ event_id: ev.eventId })).toHaveLength(0);

    // A known scope still answers: held.
    expect((await best({ quantity: 2, category: 'front', section: 'Main' })).status).toBe(201);
  });

  it('When staff force-release a hold, then the holder gets hold:expired with reason force_release', async () => {
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 4 });
    const [holder] = await createUsers(env, 1);
    const [clerk] = await createUsers(env, 1, 'box_office');
    const notices: HoldExpiredNotice[] = [];
    const w = watch(url, ev.eventId, { token: holder!.token });
    w.socket.on('hold:expired', (n) => notices.push(n));
    await w.ready;
    try {
      const held = await holdSeats(ev.eventId, holder!, [ev.seatIds[0]!, ev.seatIds[1]!]);
      expect(held.status).toBe(201);
      const partly = await http(url, 'DELETE', `/api/admin/holds/${held.body.holdToken}`, { token: clerk!.token, body: { seatIds: [ev.seatIds[0]] } });
      expect(partly.status).toBe(200);
      await until(() => notices.length === 1, 5000, 'force-release notice');
      expect(notices[0]).toEqual({ eventId: ev.eventId, holdToken: held.body.holdToken, seatIds: [ev.seatIds[0]], reason: 'force_release' });

      // The holder releasing their own rest is not a force release: no notice for it.
      const own = await http(url, 'DELETE', `/api/holds/${held.body.holdToken}`, { token: holder!.token });
      expect(own.status).toBe(200);
      const again = await holdSeats(ev.eventId, holder!, [ev.seatIds[2]!]);
      await http(url, 'DELETE', `/api/admin/holds/${again.body.holdToken}`, { token: clerk!.token });
      await until(() => notices.length === 2, 5000, 'second force-release notice');
      expect(notices[1]).toEqual({ eventId: ev.eventId, holdToken: again.body.holdToken, seatIds: [ev.seatIds[2]], reason: 'force_release' });
    } finally {
      w.close();
    }
  });

  it('When a user asks for the seats of their own waitlist offer, then SEAT_UNAVAILABLE does not blame someone else', async () => {
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 2, maxSeatsPerOrder: 2, maxSeatsPerUser: 4 });
    const [buyer, waiter] = await createUsers(env, 2);
    const bookingId = await book(ev.eventId, buyer!, ev.seatIds);
    expect((await http(url, 'POST', `/api/events/${ev.eventId}/waitlist`, { token: waiter!.token, body: { partySize: 2 } })).status).toBe(201);
    expect((await http(url, 'DELETE', `/api/bookings/${bookingId}`, { token: buyer!.token })).status).toBe(200);
    await settle();
    const mine = await http(url, 'GET', `/api/events/${ev.eventId}/waitlist/me`, { token: waiter!.token });
    expect(mine.body.status).toBe('offered');

    const refused = await holdSeats(ev.eventId, waiter!, ev.seatIds);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('SEAT_UNAVAILABLE');
    expect(refused.body.error.message).not.toMatch(/someone else/i);
  });

  it('When a seats-only booking is cancelled, then no ga:changed is announced', async () => {
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 2 });
    const [u] = await createUsers(env, 1);
    const bookingId = await book(ev.eventId, u!, [ev.seatIds[0]!]);
    const gaChanged = jest.spyOn(env.nodes[0]!.services.ga, 'changed');
    try {
      const cancelled = await http(url, 'DELETE', `/api/bookings/${bookingId}`, { token: u!.token });
      expect(cancelled.status).toBe(200);
      expect(gaChanged).not.toHaveBeenCalled();
    } finally {
      gaChanged.mockRestore();
    }
  });

  it('When the change log is asked for an unknown reason or an unknown seat, then it answers 400 and 404', async () => {
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 2 });
    const [clerk] = await createUsers(env, 1, 'box_office');
    const get = (path: string) => http(url, 'GET', path, { token: clerk!.token });

    const nope = await get(`/api/admin/events/${ev.eventId}/changes?reason=nope`);
    expect(nope.status).toBe(400);
    expect(nope.body.error.code).toBe('VALIDATION_FAILED');
    expect((await get(`/api/admin/events/${ev.eventId}/changes?reason=force_release`)).status).toBe(200);

    const other = await seedEvent(env, { rows: 1, seatsPerRow: 1 });
    const unknownSeat = await get(`/api/admin/events/${ev.eventId}/seats/${other.seatIds[0]}/history`);
    expect(unknownSeat.status).toBe(404);
    expect(unknownSeat.body.error).toMatchObject({ code: 'SEAT_NOT_FOUND', details: { seatIds: [other.seatIds[0]] } });
    const known = await get(`/api/admin/events/${ev.eventId}/seats/${ev.seatIds[0]}/history`);
    expect(known.status).toBe(200);
    expect(known.body.items).toEqual([]);
  });

  it('When a generated section lists an accessible row past its last row, then the venue is refused (rows count from 0)', async () => {
    const [admin] = await createUsers(env, 1, 'admin');
    const create = (accessibleRows: number[]) =>
      http(url, 'POST', '/api/admin/venues', {
        token: admin!.token,
        body: { name: `Hall ${randomUUID().slice(0, 6)}`, sections: [{ kind: 'rectangular', name: 'Main', rows: 2, seatsPerRow: 4, category: 'standard', accessibleRows }] },
      });
    const refused = await create([2]);
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body.error.details)).toMatch(/counts rows from 0/);

    const ok = await create([0]);
    expect(ok.status).toBe(201);
    const accessible = ok.body.layout.seats.filter((s: { accessible: boolean }) => s.accessible).map((s: { row: string; number: number }) => `${s.row}-${s.number}`);
    expect(accessible).toEqual(['A-1', 'A-4']);
  });
});
