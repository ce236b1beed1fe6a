import { randomUUID } from 'node:crypto';
import mysql from 'mysql2/promise';
import { AppError } from '../../server/shared/errors';
import { describeEach, mysqlDialects } from '../helpers/dialects';
import { actorOf, createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';
import { lockWaits, untilLockWait } from '../helpers/mysql';
import { invariantViolations } from '../property/invariants';

const codeOf = (r: PromiseSettledResult<unknown>) => (r.status === 'rejected' ? (r.reason as AppError).code : 'ok');

/** Settles with the promise's outcome, or with 'still waiting' after `ms` (the promise keeps running). */
function within<T>(p: Promise<T>, ms: number): Promise<PromiseSettledResult<T> | 'still waiting'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'still waiting'>((r) => (timer = setTimeout(() => r('still waiting'), ms)));
  const settled = p.then(
    (value): PromiseSettledResult<T> => ({ status: 'fulfilled', value }),
    (reason: unknown): PromiseSettledResult<T> => ({ status: 'rejected', reason }),
  );
  return Promise.race([settled, late]).finally(() => clearTimeout(timer));
}

/**
 * Two batches of one event in flight on one node (GroupCommit's maxInFlight, 2 on MySQL): the next batch starts
 * once the one ahead has decided, and runs beside it in the database as another node's batch would. The batch
 * ahead is held after deciding by a transaction of the test's own that has inserted (and not committed) a booking
 * with the key the batch books with: the batch's booking insert waits on that key until the test rolls back.
 */
describeEach(mysqlDialects(), 'batches in flight on %s', (dialect) => {
  let env: TestEnv;
  let conn: mysql.Connection;
  beforeAll(async () => {
    env = await startTestEnv({ dialect, sweeper: false });
  });
  beforeEach(async () => {
    conn = await mysql.createConnection({ uri: env.config.database.client === 'mysql2' ? env.config.database.url : '' });
    await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
  });
  afterEach(() => conn.end());
  afterAll(() => env.stop());

  it("When a batch waits after deciding, then the next batch is decided and answered beside it, and a buyer's next command waits for their own", async () => {
    const inv = env.nodes[0]!.services.inventory;
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 10, maxSeatsPerOrder: 1, maxSeatsPerUser: 1 });
    const [a, b, d, e] = (await createUsers(env, 4)).map((x) => actorOf(x));
    const s = (i: number) => ev.seatIds[i]!;
    const holdA = await inv.hold(a!, ev.eventId, { seatIds: [s(0)] });
    const holdD = await inv.hold(d!, ev.eventId, { seatIds: [s(1)] });
    const key = randomUUID();

    await conn.beginTransaction();
    try {
      await conn.query('INSERT INTO bookings (reference, event_id, user_id, idempotency_key, status, total_cents, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)', [
        `PIPE${randomUUID().slice(0, 8)}`,
        ev.eventId,
        a!.id,
        key,
        'confirmed',
        Date.now(),
      ]);
      // Batch 1: A books (its insert will wait on the key above), D releases.
      const first = Promise.allSettled([inv.book(a!, holdA.hold.token, key), inv.release(d!, holdD.hold.token)]);
      await untilLockWait(conn, "the first batch's booking to wait for the key");
      // Meanwhile: B holds a free seat, E asks for A's seat, and D (limit 1) holds another seat right after releasing.
      const bHold = inv.hold(b!, ev.eventId, { seatIds: [s(2)] });
      const eHold = inv.hold(e!, ev.eventId, { seatIds: [s(0)] });
      const dHold = inv.hold(d!, ev.eventId, { seatIds: [s(3)] });

      // B and E are answered while batch 1 still waits (on one batch in flight they would wait for it).
      const [bNow, eNow] = await Promise.all([within(bHold, 5000), within(eHold, 5000)]);
      expect(bNow === 'still waiting' ? bNow : codeOf(bNow)).toBe('ok');
      expect(eNow === 'still waiting' ? eNow : codeOf(eNow)).toBe('SEAT_UNAVAILABLE');
      expect(await lockWaits(conn)).toBeGreaterThan(0);
      // D's hold waits for D's release: decided before it, it would be refused for the limit the release frees.
      expect(await within(dHold, 300)).toBe('still waiting');
      await conn.rollback();

      expect((await first).map(codeOf)).toEqual(['ok', 'ok']);
      const dAnswer = await dHold;
      expect(dAnswer.seats.map((x) => x.id)).toEqual([s(3)]);
    } finally {
      await conn.rollback().catch(() => undefined);
    }
    const seats = await env.db('event_seats').where({ event_id: ev.eventId }).whereIn('seat_id', [s(0), s(1), s(2), s(3)]).orderBy('seat_id').select('status');
    expect(seats.map((x: { status: string }) => x.status)).toEqual(['booked', 'available', 'held', 'held']);
    expect(await invariantViolations(env.db, ev.eventId)).toEqual([]);
  });

  it('When many buyers race over a few seats on one node, then batches overlap and no seat is sold twice', async () => {
    const node = env.nodes[0]!;
    const inv = node.services.inventory;
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 6, maxSeatsPerOrder: 2, maxSeatsPerUser: 2 });
    const users = (await createUsers(env, 40)).map((x) => actorOf(x));
    const s = (i: number) => ev.seatIds[i % 6]!;
    // Batches of this node in flight at once, counted around InventoryService's runBatch (the method GroupCommit
    // calls for each batch; the sweeper is off, so these are the race's own).
    let open = 0;
    let most = 0;
    const service = inv as unknown as { runBatch: (...args: unknown[]) => Promise<void> };
    const runBatch = service.runBatch;
    service.runBatch = async (...args: unknown[]) => {
      most = Math.max(most, ++open);
      try {
        return await runBatch.apply(inv, args);
      } finally {
        open--;
      }
    };
    const db = env.db;
    const bookings: Promise<unknown>[] = [];
    await Promise.all(
      users.map(async (u, i) => {
        for (let round = 0; round < 3; round++) {
          // Buyers come a few turns of the event loop apart, so some arrive while a batch is in flight.
          for (let turn = 0; turn < (i * 7 + round) % 6; turn++) await new Promise((r) => setImmediate(r));
          try {
            const h = await inv.hold(u, ev.eventId, { seatIds: [s(i + round), s(i + round + 1)] });
            if ((i + round) % 3 === 0) bookings.push(inv.book(u, h.hold.token, randomUUID()).catch(() => undefined));
            else await inv.release(u, h.hold.token);
          } catch (err) {
            if (!(err instanceof AppError)) throw err;
          }
        }
      }),
    );
    await Promise.all(bookings);
    service.runBatch = runBatch;
    expect(await invariantViolations(db, ev.eventId)).toEqual([]);
    const booked = await db('booking_seats').where({ event_id: ev.eventId, active: true }).select('seat_id');
    expect(new Set(booked.map((r: { seat_id: number }) => r.seat_id)).size).toBe(booked.length);
    expect(most).toBeGreaterThan(1);
  });
});
