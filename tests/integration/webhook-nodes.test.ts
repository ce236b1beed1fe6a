import { randomUUID } from 'node:crypto';
import { createDb, type Db } from '../../server/db/knex';
import { withTransaction } from '../../server/db/transaction';
import { appendOutbox, type DomainEvent } from '../../server/shared/outbox';
import { WebhookDispatcher } from '../../server/webhooks/dispatcher';
import { verifySignature } from '../../server/webhooks/signing';
import { spawnNode, stopNode, type ChildNode } from '../fault/procs';
import { describeEach, mysqlDialects } from '../helpers/dialects';
import { createUsers, seedEvent, startTestEnv, TEST_JWT_SECRET, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { WebhookReceiver } from '../helpers/webhook-receiver';

/**
 * Webhook dispatchers on several nodes sharing one MariaDB: a node killed (SIGKILL, a real process) in the
 * middle of a POST leaves the delivery to another node once its lease lapses, and two nodes dispatching at once
 * never both send the same attempt. These are claims about MySQL row locks; SQLite has one writer.
 */
describeEach(mysqlDialects(), 'webhooks across nodes on %s', (dialect) => {
  let env: TestEnv;
  let admin: { token: string };
  const receiver = new WebhookReceiver();
  const extraDbs: Db[] = [];
  let child: ChildNode | undefined;

  beforeAll(async () => {
    env = await startTestEnv({ dialect, sweeper: false });
    [admin] = await createUsers(env, 1, 'admin');
    await receiver.up();
  });
  afterAll(async () => {
    if (child) await stopNode(child, 'SIGKILL');
    await receiver.down();
    await Promise.all(extraDbs.map((db) => db.destroy()));
    await env.stop();
  });
  beforeEach(async () => {
    receiver.mode = { kind: 'ok' };
    await env.db('webhook_endpoints').update({ enabled: false });
  });

  async function endpoint(at: string, eventTypes: string[]): Promise<{ id: number; secret: string }> {
    const res = await http(env.nodes[0]!.url, 'POST', '/api/admin/webhooks', { token: admin.token, body: { url: at, eventTypes } });
    expect(res.status).toBe(201);
    return res.body;
  }

  /** A dispatcher with a connection pool of its own: another node, as far as the database can tell. */
  function node(batchSize: number): WebhookDispatcher {
    const db = createDb({ database: env.config.database, dbPoolMax: 2 });
    extraDbs.push(db);
    return new WebhookDispatcher({ db, clock: env.clock, batchSize, timeoutMs: 5000, allowPrivateTargets: true });
  }

  it('When a node is killed in the middle of a POST, then another node delivers the event after the lease lapses', async () => {
    const ep = await endpoint(receiver.url, ['booking.confirmed']);
    receiver.mode = { kind: 'hang' };
    // The real server as a process, dispatching every 50 ms; a 20 s POST timeout gives it a 50 s lease.
    const database = env.config.database;
    if (database.client !== 'mysql2') throw new Error('this suite runs on MariaDB');
    child = await spawnNode({ DATABASE_URL: database.url, JWT_SECRET: TEST_JWT_SECRET, WEBHOOK_POLL_INTERVAL_MS: '50', WEBHOOK_TIMEOUT_MS: '20000', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' });
    const [buyer] = await createUsers(env, 1);
    const { eventId, seatIds } = await seedEvent(env, { rows: 1, seatsPerRow: 2 });
    const hold = await http(child.url, 'POST', `/api/events/${eventId}/holds`, { token: buyer!.token, body: { seatIds } });
    const booking = await http(child.url, 'POST', '/api/bookings', { token: buyer!.token, body: { holdToken: hold.body.holdToken }, headers: { 'Idempotency-Key': randomUUID() } });
    expect(booking.status).toBe(201);

    await receiver.waitFor(1); // the child's POST arrived and hangs
    await stopNode(child, 'SIGKILL');
    child = undefined;
    receiver.mode = { kind: 'ok' };
    const other = node(10);
    expect(await other.tick()).toMatchObject({ attempted: 0 }); // the dead node's lease still stands
    env.clock.advance(50_001);
    expect(await other.tick()).toMatchObject({ attempted: 1, delivered: 1 });

    const [first, second] = receiver.received as [(typeof receiver.received)[number], (typeof receiver.received)[number]];
    expect(receiver.received).toHaveLength(2);
    expect(second.json).toEqual(first.json); // the same event, which the receiver deduplicates by id
    expect(second.json).toMatchObject({ type: 'booking.confirmed', data: { bookingId: booking.body.id } });
    expect([first, second].map((r) => r.headers['evently-delivery-id'])).toEqual([first.headers['evently-delivery-id'], first.headers['evently-delivery-id']]);
    expect([first, second].map((r) => r.headers['evently-delivery-attempt'])).toEqual(['1', '2']);
    for (const r of [first, second]) {
      const timestamp = r.headers['evently-timestamp'];
      expect(verifySignature({ secret: ep.secret, body: r.body, timestamp, signature: r.headers['evently-signature'], nowSeconds: Number(timestamp) })).toBe(true);
    }
    const rows = await env.db('webhook_deliveries').where({ endpoint_id: ep.id }).select('status', 'attempts');
    expect(rows).toEqual([{ status: 'delivered', attempts: 2 }]);
  }, 90_000);

  it('When two nodes dispatch many events at once, then every delivery is sent exactly once (never the same attempt twice)', async () => {
    const a = await endpoint(`${receiver.url}?a`, ['event.status_changed']);
    const b = await endpoint(`${receiver.url}?b`, ['event.status_changed']);
    const before = receiver.received.length;
    const events: DomainEvent[] = Array.from({ length: 150 }, (_, i) => ({ type: 'event.status_changed', data: { eventId: 1_000_000 + i, from: 'on_sale', to: 'closed' } }));
    await withTransaction(env.db, (trx) => appendOutbox(trx, events, env.clock.now()));

    const [one, two] = [node(8), node(8)];
    const attempted = [0, 0];
    for (let round = 0; round < 100; round++) {
      const results = await Promise.all([one.tick(), two.tick(), one.tick(), two.tick()]);
      results.forEach((r, i) => (attempted[i % 2] += r.attempted));
      const [{ n }] = (await env.db('webhook_deliveries').whereIn('endpoint_id', [a.id, b.id]).where('status', 'pending').count({ n: '*' })) as [{ n: number }];
      const [{ m }] = (await env.db('outbox').whereNull('dispatched_at').count({ m: '*' })) as [{ m: number }];
      if (Number(n) + Number(m) === 0) break;
    }

    const got = receiver.received.slice(before);
    const perDelivery = new Map<string, number>();
    for (const r of got) perDelivery.set(r.headers['evently-delivery-id']!, (perDelivery.get(r.headers['evently-delivery-id']!) ?? 0) + 1);
    expect(got).toHaveLength(300);
    expect(attempted[0]! + attempted[1]!).toBe(300);
    expect(Math.min(...attempted)).toBeGreaterThan(0); // both nodes really took part
    expect([...perDelivery.values()].filter((c) => c !== 1)).toEqual([]);
    expect(perDelivery.size).toBe(300);
    expect(new Set(got.map((r) => r.json.id)).size).toBe(150); // each event to each of the two endpoints
    const rows = (await env.db('webhook_deliveries').whereIn('endpoint_id', [a.id, b.id]).groupBy('status').select('status').count({ n: '*' })) as { status: string; n: number }[];
    expect(rows.map((r) => [r.status, Number(r.n)])).toEqual([['delivered', 300]]);
  }, 90_000);
});
