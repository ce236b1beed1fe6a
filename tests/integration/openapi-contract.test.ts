import { randomUUID } from 'node:crypto';
import { WebhookDispatcher } from '../../server/webhooks/dispatcher';
import { describeEach, testDialects } from '../helpers/dialects';
import { createUsers, type TestEnv } from '../helpers/env';
import { contractCall, contractChecker, openContractEnv, venueAndEventVia, type OpenApiDoc } from '../helpers/openapi-check';

/**
 * Contract test (issue 14, item 3): real answers of every documented route are validated against the
 * /openapi.json the server serves, so the response schemas are checked rather than documentation only. Each
 * answer must be a documented status of its operation, with a documented media type, and a JSON body must match
 * that status's schema (ajv; response objects are closed, so an undocumented field fails). The last test checks
 * that every operation in the document was exercised.
 */
type User = { id: number; token: string };
type Doc = OpenApiDoc;

describeEach(testDialects(), 'OpenAPI contract on %s', (dialect) => {
  let env: TestEnv;
  let url: string;
  let doc: Doc;
  let admin: User;
  let clerk: User;
  let alice: User;
  let bob: User;
  const covered = new Set<string>();

  beforeAll(async () => {
    ({ env, url, doc, admin, clerk, alice, bob } = await openContractEnv(dialect));
  });
  afterAll(() => env.stop());

  const check = contractChecker(() => doc, covered);

  const call = contractCall(() => url, check);

  const key = () => ({ 'Idempotency-Key': randomUUID() });
  const startsAt = () => new Date(env.clock.now() + 7 * 24 * 3600 * 1000).toISOString();

  const venueAndEvent = (seats: number) => venueAndEventVia(call, admin.token, startsAt(), seats);

  it('When accounts are used, then register, login and me answer as documented', async () => {
    const email = `c-${randomUUID().slice(0, 8)}@example.com`;
    expect((await call('post', '/api/auth/register', { body: { email, password: 'correct horse battery', name: 'Cora' } })).status).toBe(201);
    expect((await call('post', '/api/auth/register', { body: { email, password: 'correct horse battery', name: 'Cora' } })).status).toBe(409);
    const login = await call('post', '/api/auth/login', { body: { email, password: 'correct horse battery' } });
    expect(login.status).toBe(200);
    expect((await call('post', '/api/auth/login', { body: { email, password: 'wrong password!!' } })).status).toBe(401);
    expect((await call('get', '/api/me', { token: login.body.token })).status).toBe(200);
    expect((await call('get', '/api/me')).status).toBe(401);
    expect((await call('post', '/api/auth/register', { body: { email: 'nope' } })).status).toBe(400);
  });

  it('When venues and events are managed, then every admin answer matches the document', async () => {
    const { venueId, eventId } = await venueAndEvent(4);
    expect((await call('get', '/api/admin/venues', { token: clerk.token, query: 'limit=5' })).status).toBe(200);
    const venue = await call('get', '/api/admin/venues/{id}', { token: clerk.token, params: { id: venueId } });
    expect(venue.status).toBe(200);
    expect((await call('get', '/api/admin/venues/{id}', { token: clerk.token, params: { id: 999999 } })).status).toBe(404);
    const etag = venue.headers.get('etag')!;
    expect((await call('patch', '/api/admin/venues/{id}', { token: admin.token, params: { id: venueId }, body: { address: '1 Main St' } })).status).toBe(428);
    expect((await call('patch', '/api/admin/venues/{id}', { token: admin.token, params: { id: venueId }, body: { address: '1 Main St' }, headers: { 'If-Match': etag } })).status).toBe(200);
    expect((await call('patch', '/api/admin/venues/{id}', { token: admin.token, params: { id: venueId }, body: { address: '2 Main St' }, headers: { 'If-Match': etag } })).status).toBe(412);
    expect((await call('patch', '/api/admin/venues/{id}', { token: clerk.token, params: { id: venueId }, body: { address: 'x' }, headers: { 'If-Match': etag } })).status).toBe(403);

    expect((await call('get', '/api/admin/events', { token: clerk.token })).status).toBe(200);
    const ev = await call('get', '/api/admin/events/{id}', { token: clerk.token, params: { id: eventId } });
    expect(ev.status).toBe(200);
    const patched = await call('patch', '/api/admin/events/{id}', { token: admin.token, params: { id: eventId }, body: { name: 'Renamed' }, headers: { 'If-Match': ev.headers.get('etag')! } });
    expect(patched.status).toBe(200);
    const unknownCategory = await call('patch', '/api/admin/events/{id}', {
      token: admin.token,
      params: { id: eventId },
      body: { prices: [{ category: 'nope', priceCents: 1 }] },
      headers: { 'If-Match': patched.headers.get('etag')! },
    });
    expect(unknownCategory.status).toBe(422);
    expect((await call('post', '/api/admin/events', { token: admin.token, body: { venueId: 999999, name: 'x', startsAt: startsAt(), prices: [{ category: 'a', priceCents: 1 }] } })).status).toBe(404);

    expect((await call('get', '/api/events', { query: 'limit=3' })).status).toBe(200);
    expect((await call('get', '/api/events/{id}', { params: { id: eventId } })).status).toBe(200);
    expect((await call('get', '/api/events/{id}', { params: { id: eventId }, query: 'layout=false' })).status).toBe(200);
    expect((await call('get', '/api/events/{id}', { params: { id: 999999 } })).status).toBe(404);
    const layout = await call('get', '/api/events/{id}/layout', { params: { id: eventId } });
    expect(layout.status).toBe(200);
    expect((await call('get', '/api/events/{id}/layout', { params: { id: eventId }, headers: { 'If-None-Match': layout.headers.get('etag')! } })).status).toBe(304);
    expect((await call('get', '/api/events/{id}/seats', { params: { id: eventId } })).status).toBe(200);
    expect((await call('get', '/api/events/{id}/ga', { params: { id: eventId } })).status).toBe(200);

    const cancelled = await call('post', '/api/admin/events/{id}/cancel', {
      token: admin.token,
      params: { id: eventId },
      body: { reason: 'rain' },
      headers: { 'If-Match': (await call('get', '/api/admin/events/{id}', { token: clerk.token, params: { id: eventId } })).headers.get('etag')! },
    });
    expect(cancelled.status).toBe(200);
  });

  it('When seats are held, extended, released and booked, then every answer matches the document (replays included)', async () => {
    const { eventId, seatIds, gaSectionId } = await venueAndEvent(6);
    const [s1, s2, s3, s4, s5, s6] = seatIds as [number, number, number, number, number, number];
    const held = await call('post', '/api/events/{id}/holds', { token: alice.token, params: { id: eventId }, body: { seatIds: [s1, s2, s3] } });
    expect(held.status).toBe(201);
    expect((await call('post', '/api/events/{id}/holds', { token: bob.token, params: { id: eventId }, body: { seatIds: [s1] } })).status).toBe(409);
    const token = held.body.holdToken as string;
    expect((await call('get', '/api/holds/{token}', { token: alice.token, params: { token } })).status).toBe(200);
    expect((await call('get', '/api/holds/{token}', { token: bob.token, params: { token } })).status).toBe(403);
    env.clock.advance(1000);
    expect((await call('post', '/api/holds/{token}/extend', { token: alice.token, params: { token } })).status).toBe(200);
    const partly = await call('delete', '/api/holds/{token}', { token: alice.token, params: { token }, body: { seatIds: [s3] } });
    expect(partly.status).toBe(200);
    expect(partly.body.hold).not.toBeNull();
    expect((await call('delete', '/api/holds/{token}', { token: alice.token, params: { token }, body: { seatIds: [s6] } })).status).toBe(409);

    const booking = await call('post', '/api/bookings', { token: alice.token, body: { holdToken: token }, headers: { 'Idempotency-Key': 'contract-key-1' } });
    expect(booking.status).toBe(201);
    const replay = await call('post', '/api/bookings', { token: alice.token, body: { holdToken: token }, headers: { 'Idempotency-Key': 'contract-key-1' } });
    expect(replay.status).toBe(200);
    expect((await call('get', '/api/bookings', { token: alice.token })).status).toBe(200);
    expect((await call('get', '/api/bookings/{id}', { token: alice.token, params: { id: booking.body.id } })).status).toBe(200);
    expect((await call('get', '/api/bookings/{id}', { token: bob.token, params: { id: booking.body.id } })).status).toBe(404);

    // General admission: tickets on a hold, then on a booking (bookingView.ga).
    const ga = await call('post', '/api/events/{id}/ga/holds', { token: bob.token, params: { id: eventId }, body: { sectionId: gaSectionId, quantity: 2 } });
    expect(ga.status).toBe(201);
    const gaBooking = await call('post', '/api/bookings', { token: bob.token, body: { holdToken: ga.body.holdToken }, headers: key() });
    expect(gaBooking.status).toBe(201);
    expect(gaBooking.body.ga).toHaveLength(1);
    expect((await call('get', '/api/bookings/{id}', { token: bob.token, params: { id: gaBooking.body.id } })).status).toBe(200);
    expect((await call('delete', '/api/bookings/{id}', { token: bob.token, params: { id: gaBooking.body.id } })).status).toBe(200);
    expect((await call('delete', '/api/bookings/{id}', { token: bob.token, params: { id: gaBooking.body.id } })).status).toBe(409);

    const best = await call('post', '/api/events/{id}/holds/best', { token: bob.token, params: { id: eventId }, body: { quantity: 2 } });
    expect(best.status).toBe(201);
    expect((await call('post', '/api/events/{id}/holds/best', { token: bob.token, params: { id: eventId }, body: { quantity: 2, category: 'nope' } })).status).toBe(422);
    expect((await call('delete', '/api/holds/{token}', { token: bob.token, params: { token: best.body.holdToken } })).status).toBe(200);

    // Box office.
    expect((await call('get', '/api/admin/events/{id}/seats', { token: clerk.token, params: { id: eventId } })).status).toBe(200);
    const walkIn = await call('post', '/api/admin/events/{id}/holds', { token: clerk.token, params: { id: eventId }, body: { seatIds: [s4], customer: { name: 'Walk In' } } });
    expect(walkIn.status).toBe(201);
    const boKey = { 'Idempotency-Key': 'contract-walkin-1' };
    const boBooking = await call('post', '/api/admin/holds/{token}/book', { token: clerk.token, params: { token: walkIn.body.holdToken }, headers: boKey });
    expect(boBooking.status).toBe(201);
    expect((await call('post', '/api/admin/holds/{token}/book', { token: clerk.token, params: { token: walkIn.body.holdToken }, headers: boKey })).status).toBe(200);
    const reseat = await call('post', '/api/admin/bookings/{id}/reseat', { token: clerk.token, params: { id: boBooking.body.id }, body: { seatIds: [s5] } });
    expect(reseat.status).toBe(200);
    expect((await call('get', '/api/admin/bookings', { token: clerk.token, query: `eventId=${eventId}` })).status).toBe(200);
    expect((await call('delete', '/api/admin/bookings/{id}', { token: clerk.token, params: { id: boBooking.body.id } })).status).toBe(200);
    expect((await call('delete', '/api/admin/bookings/{id}', { token: clerk.token, params: { id: boBooking.body.id } })).status).toBe(409);

    const someone = await call('post', '/api/events/{id}/holds', { token: bob.token, params: { id: eventId }, body: { seatIds: [s6] } });
    expect((await call('delete', '/api/admin/holds/{token}', { token: clerk.token, params: { token: someone.body.holdToken } })).status).toBe(200);
    expect((await call('post', '/api/admin/events/{id}/seats/block', { token: clerk.token, params: { id: eventId }, body: { seatIds: [s6], reason: 'house' } })).status).toBe(200);
    expect((await call('post', '/api/admin/events/{id}/seats/block', { token: clerk.token, params: { id: eventId }, body: { seatIds: [s1] } })).status).toBe(409);
    expect((await call('post', '/api/admin/events/{id}/seats/unblock', { token: clerk.token, params: { id: eventId }, body: { seatIds: [s6] } })).status).toBe(200);
    expect((await call('post', '/api/admin/events/{id}/seats/unblock', { token: clerk.token, params: { id: eventId }, body: { seatIds: [s6] } })).status).toBe(409);

    // History and reports.
    expect((await call('get', '/api/admin/events/{id}/changes', { token: clerk.token, params: { id: eventId }, query: 'limit=5' })).status).toBe(200);
    expect((await call('get', '/api/admin/events/{id}/changes', { token: clerk.token, params: { id: eventId }, query: 'reason=nope' })).status).toBe(400);
    expect((await call('get', '/api/admin/events/{id}/seats/{seatId}/history', { token: clerk.token, params: { id: eventId, seatId: s1 } })).status).toBe(200);
    expect((await call('get', '/api/admin/events/{id}/seats/{seatId}/history', { token: clerk.token, params: { id: eventId, seatId: 999999 } })).status).toBe(404);
    expect((await call('get', '/api/admin/events/{id}/report', { token: clerk.token, params: { id: eventId } })).status).toBe(200);
    const csv = await call('get', '/api/admin/events/{id}/report', { token: clerk.token, params: { id: eventId }, query: 'format=csv' });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect((await call('get', '/api/admin/events/{id}/report', { token: alice.token, params: { id: eventId } })).status).toBe(403);
  });

  it('When the waitlist offers, accepts and declines, then every answer matches the document', async () => {
    const { eventId, seatIds } = await venueAndEvent(4);
    const [w1, w2, w3] = await createUsers(env, 3);
    const b1 = await call('post', '/api/events/{id}/holds', { token: alice.token, params: { id: eventId }, body: { seatIds: seatIds.slice(0, 2) } });
    const k1 = await call('post', '/api/bookings', { token: alice.token, body: { holdToken: b1.body.holdToken }, headers: key() });
    const b2 = await call('post', '/api/events/{id}/holds', { token: alice.token, params: { id: eventId }, body: { seatIds: seatIds.slice(2) } });
    const k2 = await call('post', '/api/bookings', { token: alice.token, body: { holdToken: b2.body.holdToken }, headers: key() });
    const e1 = await call('post', '/api/events/{id}/waitlist', { token: w1!.token, params: { id: eventId }, body: { partySize: 2 } });
    expect(e1.status).toBe(201);
    expect(e1.body.position).toBe(1);
    const e2 = await call('post', '/api/events/{id}/waitlist', { token: w2!.token, params: { id: eventId }, body: { partySize: 2 } });
    expect((await call('post', '/api/events/{id}/waitlist', { token: w2!.token, params: { id: eventId }, body: { partySize: 2 } })).status).toBe(409);
    expect((await call('post', '/api/events/{id}/waitlist', { token: w3!.token, params: { id: eventId }, body: { partySize: 2, section: 'Balcony' } })).status).toBe(422);
    expect((await call('get', '/api/events/{id}/waitlist/me', { token: w1!.token, params: { id: eventId } })).status).toBe(200);
    expect((await call('get', '/api/events/{id}/waitlist/me', { token: w3!.token, params: { id: eventId } })).status).toBe(404);
    expect((await call('get', '/api/events/{id}/waitlist', { token: clerk.token, params: { id: eventId } })).status).toBe(200);
    expect((await call('get', '/api/events/{id}/waitlist', { token: w1!.token, params: { id: eventId } })).status).toBe(403);

    const settle = () => Promise.all(env.nodes.map((n) => n.services.waitlist.idle()));
    expect((await call('delete', '/api/bookings/{id}', { token: alice.token, params: { id: k1.body.id } })).status).toBe(200);
    await settle();
    const acceptKey = key();
    expect((await call('post', '/api/waitlist/{id}/accept', { token: w1!.token, params: { id: e1.body.id }, headers: acceptKey })).status).toBe(201);
    expect((await call('post', '/api/waitlist/{id}/accept', { token: w1!.token, params: { id: e1.body.id }, headers: acceptKey })).status).toBe(200);
    expect((await call('post', '/api/waitlist/{id}/decline', { token: w2!.token, params: { id: e2.body.id } })).status).toBe(409);
    expect((await call('delete', '/api/bookings/{id}', { token: alice.token, params: { id: k2.body.id } })).status).toBe(200);
    await settle();
    expect((await call('post', '/api/waitlist/{id}/decline', { token: w2!.token, params: { id: e2.body.id } })).status).toBe(200);
    await settle();

    const e3 = await call('post', '/api/events/{id}/waitlist', { token: w3!.token, params: { id: eventId }, body: { partySize: 4 } });
    expect((await call('delete', '/api/waitlist/{id}', { token: w3!.token, params: { id: e3.body.id } })).status).toBe(200);
    expect((await call('delete', '/api/waitlist/{id}', { token: w3!.token, params: { id: e3.body.id } })).status).toBe(409);
  });

  it('When an event sells through the waiting room, then its admin, place and refusal answers match the document', async () => {
    const { eventId, seatIds } = await venueAndEvent(2);
    const at = (ms: number) => new Date(env.clock.now() + ms).toISOString();
    expect((await call('get', '/api/admin/events/{id}/queue', { token: clerk.token, params: { id: eventId } })).status).toBe(404);
    const body = { enabled: true, opensAt: at(60_000), saleStartsAt: at(120_000), maxActive: 1 };
    expect((await call('put', '/api/admin/events/{id}/queue', { token: admin.token, params: { id: eventId }, body: { ...body, maxActive: null } })).status).toBe(400);
    expect((await call('put', '/api/admin/events/{id}/queue', { token: clerk.token, params: { id: eventId }, body })).status).toBe(403);
    expect((await call('put', '/api/admin/events/{id}/queue', { token: admin.token, params: { id: 999999 }, body })).status).toBe(404);
    expect((await call('put', '/api/admin/events/{id}/queue', { token: admin.token, params: { id: eventId }, body })).status).toBe(200);
    expect((await call('post', '/api/events/{id}/queue', { token: alice.token, params: { id: eventId } })).status).toBe(409);
    env.clock.advance(61_000);
    expect((await call('post', '/api/events/{id}/queue', { token: alice.token, params: { id: eventId } })).body.state).toBe('lobby');
    expect((await call('get', '/api/events/{id}/queue', { token: alice.token, params: { id: eventId } })).status).toBe(200);
    expect((await call('get', '/api/events/{id}/queue', { token: alice.token, params: { id: 999999 } })).status).toBe(404);
    expect((await call('post', '/api/events/{id}/holds', { token: alice.token, params: { id: eventId }, body: { seatIds: [seatIds[0]] } })).status).toBe(403);
    env.clock.advance(60_000);
    await env.nodes[0]!.services.queue.tickAll();
    expect((await call('get', '/api/admin/events/{id}/queue', { token: clerk.token, params: { id: eventId } })).body.line.active).toBe(1);
    expect((await call('delete', '/api/events/{id}/queue', { token: alice.token, params: { id: eventId } })).body.state).toBe('done');
  });

  it('When users are administered, then the user admin answers match the document', async () => {
    const [u] = await createUsers(env, 1);
    expect((await call('get', '/api/admin/users/{id}', { token: admin.token, params: { id: u!.id } })).status).toBe(200);
    expect((await call('get', '/api/admin/users/{id}', { token: admin.token, params: { id: 999999 } })).status).toBe(404);
    expect((await call('patch', '/api/admin/users/{id}', { token: admin.token, params: { id: u!.id }, body: { role: 'box_office' } })).status).toBe(200);
    expect((await call('patch', '/api/admin/users/{id}', { token: admin.token, params: { id: admin.id }, body: { active: false } })).status).toBe(409);
    expect((await call('get', '/api/admin/users/{id}', { token: clerk.token, params: { id: u!.id } })).status).toBe(403);
  });

  it('When webhook endpoints are managed and a delivery is logged and redelivered, then every answer matches the document', async () => {
    const created = await call('post', '/api/admin/webhooks', { token: admin.token, body: { url: 'http://127.0.0.1:9/hooks', eventTypes: ['event.status_changed'] } });
    expect(created.status).toBe(201);
    const id = created.body.id as number;
    expect((await call('post', '/api/admin/webhooks', { token: admin.token, body: { url: 'ftp://x', eventTypes: [] } })).status).toBe(400);
    expect((await call('post', '/api/admin/webhooks', { token: clerk.token, body: { url: 'https://example.com', eventTypes: ['hold.expired'] } })).status).toBe(403);
    expect((await call('get', '/api/admin/webhooks', { token: admin.token })).status).toBe(200);
    expect((await call('get', '/api/admin/webhooks/{id}', { token: admin.token, params: { id } })).status).toBe(200);
    expect((await call('get', '/api/admin/webhooks/{id}', { token: admin.token, params: { id: 999999 } })).status).toBe(404);
    expect((await call('patch', '/api/admin/webhooks/{id}', { token: admin.token, params: { id }, body: { description: 'contract' } })).status).toBe(200);

    // One delivery in the log: an event's status changes and a dispatcher fans it out (nothing is sent).
    const { eventId } = await venueAndEvent(1);
    const ev = await call('get', '/api/admin/events/{id}', { token: clerk.token, params: { id: eventId } });
    await call('patch', '/api/admin/events/{id}', { token: admin.token, params: { id: eventId }, body: { status: 'closed' }, headers: { 'If-Match': ev.headers.get('etag')! } });
    await new WebhookDispatcher({ db: env.nodes[0]!.db, clock: env.clock, batchSize: 50, timeoutMs: 1000 }).fanOut();
    const log = await call('get', '/api/admin/webhooks/{id}/deliveries', { token: admin.token, params: { id } });
    expect(log.body.items.length).toBeGreaterThanOrEqual(1); // earlier tests changed statuses too
    const deliveryId = log.body.items[0].id as string;
    expect((await call('post', '/api/admin/webhooks/{id}/deliveries/{deliveryId}/redeliver', { token: admin.token, params: { id, deliveryId } })).status).toBe(200);
    expect((await call('post', '/api/admin/webhooks/{id}/deliveries/{deliveryId}/redeliver', { token: admin.token, params: { id, deliveryId: randomUUID() } })).status).toBe(404);
    expect((await call('delete', '/api/admin/webhooks/{id}', { token: admin.token, params: { id } })).status).toBe(204);
    expect((await call('delete', '/api/admin/webhooks/{id}', { token: admin.token, params: { id } })).status).toBe(404);
  });

  it('When the operational routes are called, then they answer as documented', async () => {
    expect((await call('get', '/healthz')).status).toBe(200);
    expect((await call('get', '/readyz')).status).toBe(200);
    expect((await call('get', '/metrics')).status).toBe(200);
    expect((await call('get', '/openapi.json')).status).toBe(200);
  });

  it('Then every operation in /openapi.json was exercised above', () => {
    const all = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    expect(all.filter((op) => !covered.has(op))).toEqual([]);
  });
});
