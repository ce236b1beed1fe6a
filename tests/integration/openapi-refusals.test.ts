import { randomUUID } from 'node:crypto';
import { describeEach, testDialects } from '../helpers/dialects';
import type { HttpReply } from '../helpers/http';
import { contractCall, contractChecker, contractPrices, openContractEnv, venueAndEventVia, type ContractEnv } from '../helpers/openapi-check';

/**
 * The contract test's refusals (openapi-contract.test.ts checks the answers of every route; this file the 404,
 * 422 and 428 answers that no other test reaches): each must be a status its route documents, with the
 * documented error body, so /openapi.json keeps listing every status a route can answer.
 */
describeEach(testDialects(), 'OpenAPI contract, refusals, on %s', (dialect) => {
  let c: ContractEnv;
  beforeAll(async () => {
    c = await openContractEnv(dialect);
  });
  afterAll(() => c.env.stop());

  const call = contractCall(() => c.url, contractChecker(() => c.doc, new Set<string>()));
  const key = () => ({ 'Idempotency-Key': randomUUID() });
  const startsAt = () => new Date(c.env.clock.now() + 7 * 24 * 3600 * 1000).toISOString();
  const venueAndEvent = (seats: number) => venueAndEventVia(call, c.admin.token, startsAt(), seats);

  it('When what a request names does not exist, an If-Match is missing or a walk-in order is too big, then the 404, 428 and 422 answers match the document', async () => {
    // `call` fails on a status the route's `responses` leave out.
    const { venueId, eventId, seatIds } = await venueAndEvent(2);
    const [s1] = seatIds as [number];
    const missing = 999999;
    const refused = async (status: number, code: string, reply: Promise<HttpReply>) => {
      const r = await reply;
      expect([r.status, r.body?.error?.code]).toEqual([status, code]);
    };

    await refused(404, 'EVENT_NOT_FOUND', call('post', '/api/events/{id}/holds', { token: c.alice.token, params: { id: missing }, body: { seatIds: [s1] } }));
    await refused(404, 'SEAT_NOT_FOUND', call('post', '/api/events/{id}/holds', { token: c.alice.token, params: { id: eventId }, body: { seatIds: [missing] } }));
    await refused(404, 'EVENT_NOT_FOUND', call('post', '/api/events/{id}/holds/best', { token: c.alice.token, params: { id: missing }, body: { quantity: 1 } }));
    await refused(404, 'BOOKING_NOT_FOUND', call('delete', '/api/bookings/{id}', { token: c.alice.token, params: { id: missing } }));

    await refused(404, 'EVENT_NOT_FOUND', call('post', '/api/events/{id}/waitlist', { token: c.alice.token, params: { id: missing }, body: { partySize: 1 } }));
    await refused(404, 'EVENT_NOT_FOUND', call('get', '/api/events/{id}/waitlist', { token: c.clerk.token, params: { id: missing } }));
    await refused(404, 'WAITLIST_ENTRY_NOT_FOUND', call('post', '/api/waitlist/{id}/accept', { token: c.alice.token, params: { id: missing }, headers: key() }));
    await refused(404, 'WAITLIST_ENTRY_NOT_FOUND', call('post', '/api/waitlist/{id}/decline', { token: c.alice.token, params: { id: missing } }));
    await refused(404, 'WAITLIST_ENTRY_NOT_FOUND', call('delete', '/api/waitlist/{id}', { token: c.alice.token, params: { id: missing } }));

    const walkIn = { name: 'Walk In' };
    await refused(404, 'EVENT_NOT_FOUND', call('post', '/api/admin/events/{id}/holds', { token: c.clerk.token, params: { id: missing }, body: { seatIds: [s1], customer: walkIn } }));
    await refused(404, 'SEAT_NOT_FOUND', call('post', '/api/admin/events/{id}/holds', { token: c.clerk.token, params: { id: eventId }, body: { seatIds: [missing], customer: walkIn } }));
    // Staff skip the per-user limit, not the event's seats per order.
    const onePerOrder = await call('post', '/api/admin/events', { token: c.admin.token, body: { venueId, name: 'One per order', startsAt: startsAt(), status: 'on_sale', maxSeatsPerOrder: 1, prices: contractPrices } });
    await refused(422, 'TOO_MANY_SEATS', call('post', '/api/admin/events/{id}/holds', { token: c.clerk.token, params: { id: onePerOrder.body.id }, body: { seatIds, customer: walkIn } }));
    await refused(404, 'BOOKING_NOT_FOUND', call('post', '/api/admin/bookings/{id}/reseat', { token: c.clerk.token, params: { id: missing }, body: { seatIds: [s1] } }));

    const anyVersion = { 'If-Match': '"1"' };
    await refused(404, 'EVENT_NOT_FOUND', call('patch', '/api/admin/events/{id}', { token: c.admin.token, params: { id: missing }, body: { name: 'x' }, headers: anyVersion }));
    await refused(404, 'EVENT_NOT_FOUND', call('post', '/api/admin/events/{id}/cancel', { token: c.admin.token, params: { id: missing }, body: {}, headers: anyVersion }));
    await refused(428, 'PRECONDITION_REQUIRED', call('post', '/api/admin/events/{id}/cancel', { token: c.admin.token, params: { id: eventId }, body: { reason: 'rain' } }));
    await refused(404, 'VENUE_NOT_FOUND', call('patch', '/api/admin/venues/{id}', { token: c.admin.token, params: { id: missing }, body: { address: 'x' }, headers: anyVersion }));
  });

});
