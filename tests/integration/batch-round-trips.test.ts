import { randomUUID } from 'node:crypto';
import { describeEach, mysqlDialects } from '../helpers/dialects';
import { actorOf, createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';
import { invariantViolations } from '../property/invariants';
import type { QueryEvent } from '../helpers/queries';

/**
 * In a rush a group-committed batch's time is mostly its round trips (each waits for an event loop busy with socket
 * writes), so on MySQL a batch of holds, bookings, releases and extends pays two: every read in one, every write
 * and the COMMIT in the other (BEGIN rides with the first, db/mysql-client.ts).
 */
describeEach(mysqlDialects(), 'a group-committed batch on %s', (dialect) => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ dialect, sweeper: false });
  });
  afterAll(() => env.stop());

  it('When holds, a conflict, a booking, a release and an extend arrive together, then their batch takes two round trips', async () => {
    const node = env.nodes[0]!;
    const inv = node.services.inventory;
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 10 });
    const u = (await createUsers(env, 5)).map((x) => actorOf(x));
    const s = (i: number) => ev.seatIds[i]!;
    const toBook = await inv.hold(u[0]!, ev.eventId, { seatIds: [s(0), s(1)] });
    const toRelease = await inv.hold(u[1]!, ev.eventId, { seatIds: [s(2)] });
    const toExtend = await inv.hold(u[2]!, ev.eventId, { seatIds: [s(3)] });

    const byTransaction = new Map<string, string[]>();
    const listen = (q: QueryEvent) => {
      if (q.__knexTxId) byTransaction.set(q.__knexTxId, [...(byTransaction.get(q.__knexTxId) ?? []), q.sql]);
    };
    node.db.on('query', listen);
    const answers = await Promise.allSettled([
      inv.hold(u[3]!, ev.eventId, { seatIds: [s(4), s(5)] }),
      inv.hold(u[4]!, ev.eventId, { seatIds: [s(5)] }), // loses seat 5 to the command before it
      inv.book(u[0]!, toBook.hold.token, randomUUID()),
      inv.release(u[1]!, toRelease.hold.token),
      inv.extend(u[2]!, toExtend.hold.token),
    ]);
    node.db.removeListener('query', listen);

    expect(answers.map((a) => a.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    // One transaction decided all five; BEGIN and COMMIT went with its first and last statements.
    const transactions = [...byTransaction.values()];
    expect(transactions).toHaveLength(1);
    const sent = transactions[0]!.filter((sql) => sql !== 'BEGIN;' && sql !== 'COMMIT;');
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatch(/^BEGIN;/);
    expect(sent[1]).toMatch(/COMMIT$/);
    const seats = await env.db('event_seats').where('event_id', ev.eventId).whereIn('seat_id', [s(0), s(2), s(4), s(5)]).orderBy('seat_id').pluck('status');
    expect(seats).toEqual(['booked', 'available', 'held', 'held']);
    expect(await invariantViolations(env.db, ev.eventId)).toEqual([]);
  });
});
