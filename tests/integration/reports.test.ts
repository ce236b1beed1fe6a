import { testDialects, describeEach } from '../helpers/dialects';
import { seedEvent, type TestEnv } from '../helpers/env';
import { castOn, type Account } from '../helpers/cast';
import { http } from '../helpers/http';

describeEach(testDialects(), 'reports on %s', (dialect) => {
  const cast = castOn(dialect);
  const { holdAs, book } = cast;
  let env: TestEnv, url: string, admin: Account, clerk: Account, alice: Account, bob: Account;
  beforeAll(() => ({ env, url, admin, clerk, alice, bob } = cast));

  it('reports seats by status, category and section with revenue, and exports CSV', async () => {
    const ev = await seedEvent(env, { rows: 2, seatsPerRow: 2 }); // A: front 5000, B: standard 3000
    const [a1, a2, b1, b2] = ev.seatIds as [number, number, number, number];
    await book(alice, (await holdAs(alice, ev, [a1, b1])).body.holdToken, 'report-key-1');
    const walkIn = await http(url, 'POST', `/api/admin/events/${ev.eventId}/holds`, { token: clerk.token, body: { seatIds: [a2], customer: { name: '=HYPERLINK("x")', email: 'w@x.example' } } });
    await http(url, 'POST', `/api/admin/holds/${walkIn.body.holdToken}/book`, { token: clerk.token, headers: { 'Idempotency-Key': 'report-key-2' } });
    await http(url, 'POST', `/api/admin/events/${ev.eventId}/seats/block`, { token: clerk.token, body: { seatIds: [b2] } });

    expect((await http(url, 'GET', `/api/admin/events/${ev.eventId}/report`, { token: alice.token })).status).toBe(403);
    const r = await http(url, 'GET', `/api/admin/events/${ev.eventId}/report`, { token: clerk.token });
    expect(r.status).toBe(200);
    expect(r.body.totals).toEqual({ available: 0, held: 0, booked: 3, blocked: 1, total: 4, revenueCents: 13000 });
    expect(r.body.byCategory).toEqual([
      { category: 'front', available: 0, held: 0, booked: 2, blocked: 0, total: 2, revenueCents: 10000 },
      { category: 'standard', available: 0, held: 0, booked: 1, blocked: 1, total: 2, revenueCents: 3000 },
    ]);
    expect(r.body.bySection).toEqual([{ section: 'Main', available: 0, held: 0, booked: 3, blocked: 1, total: 4, revenueCents: 13000 }]);
    expect(r.body.bookings).toEqual({ confirmed: 2, cancelled: 0 });

    const csv = await http(url, 'GET', `/api/admin/events/${ev.eventId}/report?format=csv`, { token: clerk.token });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (csv.body as string).trim().split('\r\n');
    expect(lines[0]).toBe('seat_id,section,row,number,label,category,accessible,status,price_cents,booking_reference,buyer_name,buyer_email');
    expect(lines).toHaveLength(5);
    expect(lines[1]).toMatch(new RegExp(`^${a1},Main,A,1,Main A-1,front,no,booked,5000,EV-[A-Z0-9-]+,user 0,${alice.email}$`));
    // A formula in a customer name stays text in a spreadsheet.
    expect(lines[2]).toContain(`"'=HYPERLINK(""x"")",w@x.example`);
    expect(lines[4]).toBe(`${b2},Main,B,2,Main B-2,standard,no,blocked,3000,,,`);
    expect(r.body.generalAdmission).toEqual([]);
    expect(r.body.revenueCents).toBe(13000);
    const bad = await http(url, 'GET', `/api/admin/events/${ev.eventId}/report?format=xml`, { token: clerk.token });
    expect(bad.status).toBe(400);
    expect((await http(url, 'GET', `/api/admin/events/999999/report`, { token: clerk.token })).status).toBe(404);
  });

  it('reports general-admission areas next to seats, with revenue of booked tickets only', async () => {
    const venue = await http(url, 'POST', '/api/admin/venues', {
      token: admin.token,
      body: { name: 'Club', sections: [{ kind: 'rectangular', name: 'Balcony', rows: 1, seatsPerRow: 2, category: 'seat' }, { name: 'Floor', kind: 'ga', capacity: 50, category: 'standing' }] },
    });
    expect(venue.status).toBe(201);
    const event = await http(url, 'POST', '/api/admin/events', {
      token: admin.token,
      body: { venueId: venue.body.id, name: 'Club night', status: 'on_sale', startsAt: new Date(env.clock.now() + 86400_000).toISOString(), prices: [{ category: 'seat', priceCents: 4000 }, { category: 'standing', priceCents: 1500 }] },
    });
    expect(event.status).toBe(201);
    const floor = venue.body.layout.sections.find((x: { name: string }) => x.name === 'Floor').id;
    const booked = await http(url, 'POST', `/api/events/${event.body.id}/ga/holds`, { token: alice.token, body: { sectionId: floor, quantity: 3 } });
    expect(booked.status).toBe(201);
    expect((await book(alice, booked.body.holdToken, 'ga-report-1')).status).toBe(201);
    expect((await http(url, 'POST', `/api/events/${event.body.id}/ga/holds`, { token: bob.token, body: { sectionId: floor, quantity: 2 } })).status).toBe(201);
    const r = await http(url, 'GET', `/api/admin/events/${event.body.id}/report`, { token: clerk.token });
    expect(r.status).toBe(200);
    expect(r.body.generalAdmission).toEqual([{ section: 'Floor', category: 'standing', capacity: 50, held: 2, booked: 3, available: 45, revenueCents: 4500 }]);
    expect(r.body.totals).toMatchObject({ available: 2, total: 2, revenueCents: 0 });
    expect(r.body.revenueCents).toBe(4500);

    // Cancelling the event gives the general-admission tickets back too, held and booked.
    const cancel = await http(url, 'POST', `/api/admin/events/${event.body.id}/cancel`, { token: admin.token, body: {}, headers: { 'If-Match': `"${event.body.version}"` } });
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ cancelledBookings: 1, releasedHolds: 1 });
    expect(await env.db('event_ga_areas').where({ event_id: event.body.id }).select('held', 'booked')).toEqual([{ held: 0, booked: 0 }]);
    const after = await http(url, 'GET', `/api/admin/events/${event.body.id}/report`, { token: clerk.token });
    expect(after.body.revenueCents).toBe(0);
  });
});
