import { testDialects, describeEach } from '../helpers/dialects';
import { createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';

/** Row counts of the catalogue tables: bad input must leave all of them unchanged. */
async function catalogueCounts(env: TestEnv): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of ['venues', 'sections', 'seats', 'events', 'event_prices', 'event_seats']) {
    const [{ n }] = await env.db(t).count({ n: '*' });
    out[t] = Number(n);
  }
  return out;
}

describeEach(testDialects(), 'admin venues and events on %s', (dialect) => {
  let env: TestEnv;
  let url: string;
  let admin: string;
  let boxOffice: string;
  let user: string;
  beforeAll(async () => {
    env = await startTestEnv({ dialect });
    url = env.nodes[0]!.url;
    [admin] = (await createUsers(env, 1, 'admin')).map((u) => u.token);
    [boxOffice] = (await createUsers(env, 1, 'box_office')).map((u) => u.token);
    [user] = (await createUsers(env, 1, 'user')).map((u) => u.token);
  });
  afterAll(() => env.stop());

  const layout = {
    name: 'Grand Hall',
    address: '1 Main St',
    sections: [
      { kind: 'rectangular', name: 'Stalls', rows: 3, seatsPerRow: 4, category: ['front', 'standard'], accessibleRows: [2] },
      { kind: 'curved', name: 'Circle', rows: 2, firstRowSeats: 3, seatsAddedPerRow: 2, category: 'standard' },
      {
        name: 'Box',
        seats: [
          { row: 'A', number: 1, label: 'Royal Box 1', x: 50, y: 0, category: 'vip' },
          { row: 'A', number: 2, label: 'Royal Box 2', x: 51, y: 0, category: 'vip', accessible: true },
        ],
      },
    ],
  };

  it('refuses buyers (403), anonymous callers (401) and box office on venue/event writes, changing nothing', async () => {
    const before = await catalogueCounts(env);
    expect((await http(url, 'GET', '/api/admin/venues', { token: user })).status).toBe(403);
    expect((await http(url, 'GET', '/api/admin/events', { token: user })).status).toBe(403);
    expect((await http(url, 'POST', '/api/admin/venues', { token: user, body: layout })).status).toBe(403);
    expect((await http(url, 'GET', '/api/admin/venues')).status).toBe(401);
    const bo = await http(url, 'POST', '/api/admin/venues', { token: boxOffice, body: layout });
    expect(bo.status).toBe(403);
    expect(bo.body.error.code).toBe('FORBIDDEN');
    expect(
      (await http(url, 'POST', '/api/admin/events', { token: boxOffice, body: { venueId: 1, name: 'x', startsAt: new Date().toISOString(), prices: [{ category: 'a', priceCents: 1 }] } }))
        .status,
    ).toBe(403);
    expect(await catalogueCounts(env)).toEqual(before);
    // Box office may read.
    expect((await http(url, 'GET', '/api/admin/venues', { token: boxOffice })).status).toBe(200);
  });

  it('creates a venue from generated and imported sections with labels, positions, categories and accessibility', async () => {
    const res = await http(url, 'POST', '/api/admin/venues', { token: admin, body: layout });
    expect(res.status).toBe(201);
    expect(res.headers.get('etag')).toBe('"1"');
    const seats = res.body.layout.seats as { label: string; category: string; accessible: boolean; section: string; row: string; x: number; y: number }[];
    expect(res.body.seatCount).toBe(12 + (3 + 5) + 2);
    expect(seats).toHaveLength(res.body.seatCount);
    const stalls = seats.filter((s) => s.section === 'Stalls');
    expect(stalls.filter((s) => s.row === 'A').every((s) => s.category === 'front')).toBe(true);
    expect(stalls.filter((s) => s.row !== 'A').every((s) => s.category === 'standard')).toBe(true);
    expect(stalls.filter((s) => s.accessible).map((s) => s.label).sort()).toEqual(['Stalls C-1', 'Stalls C-4']);
    expect(seats.find((s) => s.label === 'Royal Box 2')).toMatchObject({ category: 'vip', accessible: true, x: 51 });
    // Curved rows: the second row is further from the stage than the first at its centre seat.
    const circle = seats.filter((s) => s.section === 'Circle');
    expect(circle).toHaveLength(8);
    expect(new Set(seats.map((s) => s.label)).size).toBe(seats.length);
    const [{ n }] = await env.db('seats').where({ venue_id: res.body.id }).count({ n: '*' });
    expect(Number(n)).toBe(res.body.seatCount);
  });

  it('rejects duplicate labels, empty layouts and malformed input with a clear error and writes nothing', async () => {
    const before = await catalogueCounts(env);
    const dup = await http(url, 'POST', '/api/admin/venues', {
      token: admin,
      body: {
        name: 'Dup',
        sections: [
          {
            name: 'S',
            seats: [
              { row: 'A', number: 1, label: 'Same', x: 0, y: 0, category: 'c' },
              { row: 'A', number: 2, label: 'Same', x: 1, y: 0, category: 'c' },
            ],
          },
        ],
      },
    });
    expect(dup.status).toBe(422);
    expect(dup.body.error).toMatchObject({ code: 'DUPLICATE_SEAT_LABELS', details: { labels: ['Same'] } });

    const empty = await http(url, 'POST', '/api/admin/venues', { token: admin, body: { name: 'Empty', sections: [] } });
    expect(empty.status).toBe(422);
    expect(empty.body.error.code).toBe('EMPTY_LAYOUT');

    const seatless = await http(url, 'POST', '/api/admin/venues', { token: admin, body: { name: 'Seatless', sections: [{ name: 'S', seats: [] }] } });
    expect(seatless.status).toBe(400);
    expect(seatless.body.error.code).toBe('VALIDATION_FAILED');

    const dupSections = await http(url, 'POST', '/api/admin/venues', {
      token: admin,
      body: { name: 'Twice', sections: [{ kind: 'rectangular', name: 'A', rows: 1, seatsPerRow: 1, category: 'c' }, { kind: 'rectangular', name: 'A', rows: 1, seatsPerRow: 1, category: 'c' }] },
    });
    expect(dupSections.status).toBe(422);
    expect(dupSections.body.error.code).toBe('DUPLICATE_SECTION_NAMES');

    const extra = await http(url, 'POST', '/api/admin/venues', { token: admin, body: { ...layout, owner: 'me' } });
    expect(extra.status).toBe(400);
    const huge = await http(url, 'POST', '/api/admin/venues', { token: admin, body: { name: 'Huge', sections: [{ kind: 'rectangular', name: 'A', rows: 201, seatsPerRow: 1, category: 'c' }] } });
    expect(huge.status).toBe(400);
    const notJson = await http(url, 'POST', '/api/admin/venues', { token: admin, rawBody: '{"name":' });
    expect(notJson.status).toBe(400);
    expect(await catalogueCounts(env)).toEqual(before);
  });

  it('lists venues paginated, filtered and sorted, and guards venue edits with If-Match', async () => {
    for (const name of ['Zeta Arena', 'Alpha Club']) {
      const r = await http(url, 'POST', '/api/admin/venues', { token: admin, body: { name, sections: [{ kind: 'rectangular', name: 'M', rows: 1, seatsPerRow: 2, category: 'c' }] } });
      expect(r.status).toBe(201);
    }
    const page = await http(url, 'GET', '/api/admin/venues?sort=name&limit=2&page=1', { token: admin });
    expect(page.status).toBe(200);
    expect(page.body.items).toHaveLength(2);
    expect(page.body.items[0]).toMatchObject({ name: 'Alpha Club', seatCount: 2, version: 1, address: null });
    const [{ n }] = await env.db('venues').count({ n: '*' });
    expect(page.body.total).toBe(Number(n));
    const filtered = await http(url, 'GET', '/api/admin/venues?q=zeta', { token: boxOffice });
    expect(filtered.body.items.map((v: { name: string }) => v.name)).toEqual(['Zeta Arena']);
    const bad = await http(url, 'GET', '/api/admin/venues?sort=price', { token: admin });
    expect(bad.status).toBe(400);

    const id = filtered.body.items[0].id;
    const get = await http(url, 'GET', `/api/admin/venues/${id}`, { token: admin });
    const etag = get.headers.get('etag')!;
    expect((await http(url, 'PATCH', `/api/admin/venues/${id}`, { token: boxOffice, body: { name: 'X' }, headers: { 'If-Match': etag } })).status).toBe(403);
    const ok = await http(url, 'PATCH', `/api/admin/venues/${id}`, { token: admin, body: { name: 'Zeta Dome' }, headers: { 'If-Match': etag } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('etag')).toBe('"2"');
    const stale = await http(url, 'PATCH', `/api/admin/venues/${id}`, { token: admin, body: { name: 'Lost update' }, headers: { 'If-Match': etag } });
    expect(stale.status).toBe(412);
    expect((await env.db('venues').where({ id }).first()).name).toBe('Zeta Dome');
  });

  it('moves an event draft → on_sale → closed under If-Match, 412 on a stale write, 428 without one', async () => {
    const venue = await http(url, 'POST', '/api/admin/venues', {
      token: admin,
      body: { name: 'Event Hall', sections: [{ kind: 'rectangular', name: 'M', rows: 2, seatsPerRow: 3, category: ['front', 'standard'] }] },
    });
    const startsAt = new Date(env.clock.now() + 86400_000).toISOString();
    const missing = await http(url, 'POST', '/api/admin/events', { token: admin, body: { venueId: venue.body.id, name: 'Gig', startsAt, prices: [{ category: 'front', priceCents: 100 }] } });
    expect(missing.status).toBe(422);
    expect(missing.body.error.code).toBe('MISSING_PRICES');

    const created = await http(url, 'POST', '/api/admin/events', {
      token: admin,
      body: { venueId: venue.body.id, name: 'Gig', startsAt, holdTtlSeconds: 120, maxSeatsPerOrder: 4, prices: [{ category: 'front', priceCents: 5000 }, { category: 'standard', priceCents: 2000 }] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'draft', holdTtlSeconds: 120, maxSeatsPerOrder: 4, version: 1 });
    expect(created.headers.get('etag')).toBe('"1"');
    const id = created.body.id;
    // Drafts are invisible to buyers, visible to staff.
    expect((await http(url, 'GET', `/api/events/${id}`, { token: user })).status).toBe(404);
    const list = await http(url, 'GET', '/api/admin/events?status=draft', { token: boxOffice });
    expect(list.body.items.map((e: { id: number }) => e.id)).toContain(id);

    const noIfMatch = await http(url, 'PATCH', `/api/admin/events/${id}`, { token: admin, body: { status: 'on_sale' } });
    expect(noIfMatch.status).toBe(428);
    const garbage = await http(url, 'PATCH', `/api/admin/events/${id}`, { token: admin, body: { status: 'on_sale' }, headers: { 'If-Match': 'banana' } });
    expect(garbage.status).toBe(400);
    const wrongField = await http(url, 'PATCH', `/api/admin/events/${id}`, { token: admin, body: { status: 'cancelled' }, headers: { 'If-Match': '"1"' } });
    expect(wrongField.status).toBe(400);
    expect((await env.db('events').where({ id }).first()).version).toBe(1);

    const onSale = await http(url, 'PATCH', `/api/admin/events/${id}`, {
      token: admin,
      body: { status: 'on_sale', prices: [{ category: 'standard', priceCents: 2500 }] },
      headers: { 'If-Match': '"1"' },
    });
    expect(onSale.status).toBe(200);
    expect(onSale.body.status).toBe('on_sale');
    expect(onSale.headers.get('etag')).toBe('"2"');
    expect(onSale.body.prices).toEqual([
      { category: 'front', priceCents: 5000 },
      { category: 'standard', priceCents: 2500 },
    ]);
    const standard = await env.db('event_seats as es').join('seats as s', 's.id', 'es.seat_id').where({ 'es.event_id': id, 's.category': 'standard' }).select('es.price_cents');
    expect(standard.map((r) => r.price_cents)).toEqual([2500, 2500, 2500]);

    const stale = await http(url, 'PATCH', `/api/admin/events/${id}`, { token: admin, body: { name: 'Lost' }, headers: { 'If-Match': '"1"' } });
    expect(stale.status).toBe(412);
    expect(stale.body.error).toMatchObject({ code: 'PRECONDITION_FAILED', details: { currentVersion: 2 } });
    expect((await env.db('events').where({ id }).first()).name).toBe('Gig');

    const back = await http(url, 'PATCH', `/api/admin/events/${id}`, { token: admin, body: { status: 'draft' }, headers: { 'If-Match': '"2"' } });
    expect(back.status).toBe(409);
    expect(back.body.error.code).toBe('INVALID_STATUS_TRANSITION');
    const unknownCat = await http(url, 'PATCH', `/api/admin/events/${id}`, { token: admin, body: { prices: [{ category: 'balcony', priceCents: 1 }] }, headers: { 'If-Match': '"2"' } });
    expect(unknownCat.status).toBe(422);
    const badTimes = await http(url, 'PATCH', `/api/admin/events/${id}`, { token: admin, body: { endsAt: new Date(env.clock.now()).toISOString() }, headers: { 'If-Match': '"2"' } });
    expect(badTimes.status).toBe(422);
    expect((await env.db('events').where({ id }).first()).version).toBe(2);

    const closed = await http(url, 'PATCH', `/api/admin/events/${id}`, { token: admin, body: { status: 'closed' }, headers: { 'If-Match': 'W/"2"' } });
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ status: 'closed', version: 3 });
    // Closed: nobody can hold.
    const seat = (await env.db('event_seats').where({ event_id: id }).first()).seat_id;
    const hold = await http(url, 'POST', `/api/events/${id}/holds`, { token: user, body: { seatIds: [seat] } });
    expect(hold.status).toBe(409);
    expect(hold.body.error.code).toBe('EVENT_NOT_ON_SALE');
  });

  it('documents every admin route in /openapi.json', async () => {
    const doc = await http(url, 'GET', '/openapi.json');
    expect(doc.status).toBe(200);
    const paths = Object.keys(doc.body.paths);
    for (const p of ['/api/admin/venues', '/api/admin/events/{id}', '/api/admin/events/{id}/cancel', '/api/admin/events/{id}/seats/block', '/api/admin/bookings/{id}/reseat', '/api/admin/events/{id}/report']) {
      expect(paths).toContain(p);
    }
  });

  it('keeps the price a booked seat was sold at when prices change', async () => {
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 2 });
    const [buyer] = await createUsers(env, 1);
    const hold = await http(url, 'POST', `/api/events/${ev.eventId}/holds`, { token: buyer!.token, body: { seatIds: [ev.seatIds[0]] } });
    const booked = await http(url, 'POST', '/api/bookings', { token: buyer!.token, body: { holdToken: hold.body.holdToken }, headers: { 'Idempotency-Key': 'price-key-1' } });
    expect(booked.status).toBe(201);
    const version = (await env.db('events').where({ id: ev.eventId }).first()).version;
    const res = await http(url, 'PATCH', `/api/admin/events/${ev.eventId}`, { token: admin, body: { prices: [{ category: 'front', priceCents: 9900 }] }, headers: { 'If-Match': `"${version}"` } });
    expect(res.status).toBe(200);
    const rows = await env.db('event_seats').where({ event_id: ev.eventId }).orderBy('seat_id').select('price_cents', 'status');
    expect(rows).toEqual([
      { price_cents: 5000, status: 'booked' },
      { price_cents: 9900, status: 'available' },
    ]);
  });
});
