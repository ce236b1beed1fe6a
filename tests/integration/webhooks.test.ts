import { randomUUID } from 'node:crypto';
import { withTransaction } from '../../server/db/transaction';
import { cancelBooking } from '../../server/inventory/operations';
import { RETRY_CAP_MS } from '../../server/webhooks/backoff';
import { WebhookDispatcher } from '../../server/webhooks/dispatcher';
import { verifySignature } from '../../server/webhooks/signing';
import { describeEach, testDialects } from '../helpers/dialects';
import { createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { WebhookReceiver } from '../helpers/webhook-receiver';

/**
 * Webhooks end to end (issue 14, item 1): real changes write outbox rows in their own transactions, a real
 * dispatcher POSTs them to a real HTTP receiver, and time moves only by the injected clock.
 */
describeEach(testDialects(), 'webhooks on %s', (dialect) => {
  let env: TestEnv;
  let admin: { token: string };
  let buyer: { token: string };
  const receiver = new WebhookReceiver();
  /** Dispatchers made by a test; stopped after it. */
  const dispatchers: WebhookDispatcher[] = [];

  beforeAll(async () => {
    env = await startTestEnv({ dialect, sweeper: false });
    await receiver.up();
  });
  afterAll(async () => {
    await receiver.down();
    await env.stop();
  });
  beforeEach(async () => {
    // Fresh tokens for each test: a test that moves the clock by a day outlives the ones before it.
    [admin] = await createUsers(env, 1, 'admin');
    [buyer] = await createUsers(env, 1);
    receiver.mode = { kind: 'ok' };
    // Each test has its own endpoints: the ones before it are switched off.
    await env.db('webhook_endpoints').update({ enabled: false });
  });
  afterEach(async () => {
    await Promise.all(dispatchers.splice(0).map((d) => d.stop()));
  });

  const url = () => env.nodes[0]!.url;
  const dispatcher = (leaseMs?: number) => {
    const d = new WebhookDispatcher({ db: env.nodes[0]!.db, clock: env.clock, batchSize: 50, timeoutMs: 2000, leaseMs, allowPrivateTargets: true });
    dispatchers.push(d);
    return d;
  };
  const now = () => Math.floor(env.clock.now() / 1000);

  async function endpoint(eventTypes: string[], at = receiver.url): Promise<{ id: number; secret: string }> {
    const res = await http(url(), 'POST', '/api/admin/webhooks', { token: admin.token, body: { url: at, eventTypes } });
    expect(res.status).toBe(201);
    return res.body;
  }

  async function book(): Promise<{ bookingId: number; eventId: number; seatIds: number[] }> {
    const { eventId, seatIds } = await seedEvent(env, { rows: 1, seatsPerRow: 4 });
    const hold = await http(url(), 'POST', `/api/events/${eventId}/holds`, { token: buyer.token, body: { seatIds: seatIds.slice(0, 2) } });
    expect(hold.status).toBe(201);
    const booking = await http(url(), 'POST', '/api/bookings', { token: buyer.token, body: { holdToken: hold.body.holdToken }, headers: { 'Idempotency-Key': randomUUID() } });
    expect(booking.status).toBe(201);
    return { bookingId: booking.body.id, eventId, seatIds: seatIds.slice(0, 2) };
  }

  const deliveries = async (endpointId: number) => (await http(url(), 'GET', `/api/admin/webhooks/${endpointId}/deliveries`, { token: admin.token })).body.items;

  it('When a booking is confirmed, then a subscribed endpoint gets booking.confirmed once, signed, and others do not', async () => {
    const ep = await endpoint(['booking.confirmed']);
    const other = await endpoint(['event.status_changed']);
    const before = receiver.received.length;
    const { bookingId, eventId, seatIds } = await book();

    const d = dispatcher();
    expect(await d.tick()).toMatchObject({ attempted: 1, delivered: 1 });
    expect(await d.tick()).toMatchObject({ attempted: 0 });

    const got = receiver.received.slice(before);
    expect(got).toHaveLength(1);
    const [hook] = got as [(typeof got)[number]];
    expect(hook.json).toMatchObject({ type: 'booking.confirmed', data: { bookingId, eventId, seatIds, totalCents: 10000 } });
    expect(hook.headers['evently-event-id']).toBe(hook.json.id);
    expect(hook.headers['evently-delivery-attempt']).toBe('1');
    const check = { body: hook.body, timestamp: hook.headers['evently-timestamp'], signature: hook.headers['evently-signature'], nowSeconds: now() };
    expect(verifySignature({ ...check, secret: ep.secret })).toBe(true);
    expect(verifySignature({ ...check, secret: `${ep.secret}x` })).toBe(false);
    expect(verifySignature({ ...check, secret: ep.secret, body: hook.body.replace('booking', 'Booking') })).toBe(false);
    // Replay protection: the same request presented six minutes later is refused.
    expect(verifySignature({ ...check, secret: ep.secret, nowSeconds: now() + 360 })).toBe(false);

    const [log] = await deliveries(ep.id);
    expect(log).toMatchObject({ status: 'delivered', attempts: 1, lastHttpStatus: 204, lastError: null, event: { id: hook.json.id, type: 'booking.confirmed' } });
    expect(await deliveries(other.id)).toEqual([]);
  });

  it('When the receiver is down, then the delivery is retried with backoff and delivered once it is back up', async () => {
    const ep = await endpoint(['booking.confirmed']);
    await receiver.down();
    const { bookingId } = await book();
    const d = dispatcher();
    try {
      expect(await d.tick()).toMatchObject({ attempted: 1, delivered: 0 });
      const [failed] = await deliveries(ep.id);
      expect(failed).toMatchObject({ status: 'pending', attempts: 1, lastHttpStatus: null });
      expect(failed.lastError).toMatch(/ECONNREFUSED/);
      // Not due again yet: the first retry waits 5-10 s.
      expect(Date.parse(failed.nextAttemptAt)).toBeGreaterThanOrEqual(env.clock.now() + 4000);
      expect(await d.tick()).toMatchObject({ attempted: 0 });
    } finally {
      await receiver.up();
    }
    const before = receiver.received.length;
    env.clock.advance(10_000);
    expect(await d.tick()).toMatchObject({ attempted: 1, delivered: 1 });
    const got = receiver.received.slice(before);
    expect(got.map((g) => [g.json.data.bookingId, g.headers['evently-delivery-attempt']])).toEqual([[bookingId, '2']]);
    expect((await deliveries(ep.id))[0]).toMatchObject({ status: 'delivered', attempts: 2, nextAttemptAt: null });
  });

  it('When a change rolls back after writing its event, then no event exists and nothing is sent; the committed change is sent', async () => {
    const ep = await endpoint(['booking.cancelled']);
    const { bookingId, eventId } = await book();
    const booking = await env.db('bookings').where({ id: bookingId }).first('id', 'event_id', 'user_id', 'reference');
    const outboxBefore = await env.db('outbox').count({ n: '*' });
    // The inventory's real cancellation, in a transaction whose caller then fails: everything goes back.
    await expect(
      withTransaction(env.nodes[0]!.db, async (trx) => {
        await cancelBooking(trx, booking, { actorId: null, reason: 'cancel', now: env.clock.now() });
        throw new Error('the caller failed after cancelling');
      }),
    ).rejects.toThrow('the caller failed');
    expect(await env.db('outbox').count({ n: '*' })).toEqual(outboxBefore);
    expect((await env.db('bookings').where({ id: bookingId }).first('status')).status).toBe('confirmed');
    const d = dispatcher();
    const before = receiver.received.length;
    expect(await d.tick()).toMatchObject({ attempted: 0 });
    expect(receiver.received.length).toBe(before);

    expect((await http(url(), 'DELETE', `/api/bookings/${bookingId}`, { token: buyer.token })).status).toBe(200);
    expect(await d.tick()).toMatchObject({ attempted: 1, delivered: 1 });
    expect(receiver.received.slice(before).map((r) => r.json)).toEqual([expect.objectContaining({ type: 'booking.cancelled', data: expect.objectContaining({ bookingId, eventId, reason: 'cancel' }) })]);
    expect(await deliveries(ep.id)).toHaveLength(1);
  });

  it('When a node claims a delivery and dies before sending, then another node delivers it once the lease lapses', async () => {
    await endpoint(['booking.confirmed']);
    await book();
    const dying = dispatcher(30_000);
    const other = dispatcher(30_000);
    expect(await dying.fanOut()).toBe(1);
    const { claimed } = await dying.claim();
    expect(claimed).toHaveLength(1); // claimed by the node that now "dies" without sending
    const before = receiver.received.length;
    expect(await other.tick()).toMatchObject({ attempted: 0 }); // leased: not another node's to send
    env.clock.advance(30_001);
    expect(await other.tick()).toMatchObject({ attempted: 1, delivered: 1 });
    const got = receiver.received.slice(before);
    expect(got.map((g) => [g.headers['evently-delivery-id'], g.headers['evently-delivery-attempt']])).toEqual([[claimed[0]!.uid, '2']]);
  });

  it('When an endpoint is disabled, then its pending deliveries wait, and go out once it is enabled again', async () => {
    const ep = await endpoint(['booking.confirmed']);
    await book();
    const d = dispatcher();
    expect(await d.fanOut()).toBe(1);
    expect((await http(url(), 'PATCH', `/api/admin/webhooks/${ep.id}`, { token: admin.token, body: { enabled: false } })).status).toBe(200);
    expect(await d.tick()).toMatchObject({ attempted: 0 });
    expect((await deliveries(ep.id))[0]).toMatchObject({ status: 'pending', attempts: 0 });
    await http(url(), 'PATCH', `/api/admin/webhooks/${ep.id}`, { token: admin.token, body: { enabled: true } });
    expect(await d.tick()).toMatchObject({ attempted: 1, delivered: 1 });
  });

  it('When deliveries fail for a day, then they are marked failed, and redeliver sends the same event again', async () => {
    const ep = await endpoint(['event.status_changed']);
    const { eventId } = await seedEvent(env, { status: 'draft' });
    const ev = await http(url(), 'GET', `/api/admin/events/${eventId}`, { token: admin.token });
    const moved = await http(url(), 'PATCH', `/api/admin/events/${eventId}`, { token: admin.token, body: { status: 'on_sale' }, headers: { 'If-Match': ev.headers.get('etag')! } });
    expect(moved.status).toBe(200);
    receiver.mode = { kind: 'status', status: 500 };
    const d = dispatcher();
    const before = receiver.received.length;
    let rounds = 0;
    const status = async () => (await env.db('webhook_deliveries').where({ endpoint_id: ep.id }).first('status'))?.status;
    while ((await status()) !== 'failed') {
      expect(rounds++).toBeLessThan(60);
      await d.tick();
      env.clock.advance(RETRY_CAP_MS);
    }
    [admin] = await createUsers(env, 1, 'admin'); // a day later: a fresh token
    const [failed] = await deliveries(ep.id);
    expect(failed).toMatchObject({ status: 'failed', lastHttpStatus: 500, lastError: 'HTTP 500: receiver says no', nextAttemptAt: null });
    const attempts = receiver.received.slice(before);
    expect(attempts.length).toBe(failed.attempts);
    expect(attempts.length).toBeGreaterThan(20); // ~10 s doubling to an hour, for a day
    expect(new Set(attempts.map((a) => a.json.id)).size).toBe(1);
    expect(attempts[0]!.json).toMatchObject({ type: 'event.status_changed', data: { eventId, from: 'draft', to: 'on_sale' } });

    receiver.mode = { kind: 'ok' };
    const again = await http(url(), 'POST', `/api/admin/webhooks/${ep.id}/deliveries/${failed.id}/redeliver`, { token: admin.token });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: failed.id, status: 'pending' });
    expect(await d.tick()).toMatchObject({ delivered: 1 });
    expect(receiver.received.at(-1)!.json.id).toBe(attempts[0]!.json.id);
    expect((await deliveries(ep.id))[0]).toMatchObject({ status: 'delivered', lastHttpStatus: 204, lastError: null });
  });

  it('When events were delivered over a week ago, then the outbox forgets them (and their deliveries)', async () => {
    const ep = await endpoint(['booking.confirmed']);
    await book();
    expect(await dispatcher().tick()).toMatchObject({ delivered: 1 });
    const [{ id }] = await env.db('webhook_deliveries').where({ endpoint_id: ep.id }).select('outbox_id as id');
    env.clock.advance(7 * 24 * 3_600_000 + 1);
    await dispatcher().tick(); // a new dispatcher prunes on its first round
    expect(await env.db('outbox').where({ id }).count({ n: '*' })).toEqual([{ n: 0 }]);
    expect(await env.db('webhook_deliveries').where({ endpoint_id: ep.id }).count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  it('When holds expire, waitlist offers come and go and an event is cancelled, then each is reported', async () => {
    const types = ['hold.expired', 'waitlist.offer_made', 'waitlist.offer_lapsed', 'event.status_changed', 'booking.cancelled'];
    await endpoint(types);
    const { eventId, seatIds } = await seedEvent(env, { rows: 1, seatsPerRow: 2, holdTtlSeconds: 60 });
    const [waiter] = await createUsers(env, 1);
    const hold = await http(url(), 'POST', `/api/events/${eventId}/holds`, { token: buyer.token, body: { seatIds } });
    expect(hold.status).toBe(201);
    expect((await http(url(), 'POST', `/api/events/${eventId}/waitlist`, { token: waiter!.token, body: { partySize: 2 } })).status).toBe(201);
    const node = env.nodes[0]!;
    env.clock.advance(61_000);
    await node.sweep(); // the buyer's hold expires; the waitlist is offered the seats
    await node.services.waitlist.idle();
    env.clock.advance(61_000);
    await node.sweep(); // the offer lapses
    await node.services.waitlist.process(eventId);
    const ev = await http(url(), 'GET', `/api/admin/events/${eventId}`, { token: admin.token });
    expect((await http(url(), 'POST', `/api/admin/events/${eventId}/cancel`, { token: admin.token, body: {}, headers: { 'If-Match': ev.headers.get('etag')! } })).status).toBe(200);
    const before = receiver.received.length;
    await dispatcher().tick();
    const got = receiver.received.slice(before).filter((r) => r.json.data.eventId === eventId);
    expect(got.map((r) => r.json.type).sort()).toEqual(['event.status_changed', 'hold.expired', 'hold.expired', 'waitlist.offer_lapsed', 'waitlist.offer_made'].sort());
    expect(got.find((r) => r.json.type === 'waitlist.offer_made')!.json.data).toMatchObject({ eventId, partySize: 2, seatIds });
    expect(got.find((r) => r.json.type === 'event.status_changed')!.json.data).toEqual({ eventId, from: 'on_sale', to: 'cancelled' });
  });
});
