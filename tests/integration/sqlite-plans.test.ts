import { randomUUID } from 'node:crypto';
import { actorOf, createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';
import { invariantViolations } from '../property/invariants';
import type { QueryEvent } from '../helpers/queries';

/**
 * The embedded database is never ANALYZEd, and without statistics SQLite's planner took an index on `event_id`
 * alone for a list of four holds or more (server/db/index-hint.ts): a batch read every hold or seat of the event to
 * find a few. Here every statement of real batches (holds of several buyers, four named holds booked, released and
 * extended, lapsed holds expired, the per-user and per-IP counts) is asked for its plan, and each of its reads of
 * `holds` or `event_seats` must go by a key the statement names (a token, an id, a hold, a seat, a buyer, an
 * address), never by the event or a status alone, and never scan.
 */
describe('the plans of a batch on SQLite', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ dialect: 'sqlite', sweeper: false, env: { HOLD_CAP_PER_IP: '40' } });
  });
  afterAll(() => env.stop());

  /** A plan step that reads holds or event_seats without a key the batch names. */
  const unkeyed = (detail: string): boolean => {
    const table = /^(SCAN|SEARCH) (\w+)/.exec(detail);
    if (!table || !['holds', 'h', 'event_seats', 'es'].includes(table[2]!)) return false;
    if (table[1] === 'SCAN') return true;
    if (/INTEGER PRIMARY KEY \(rowid=\?\)/.test(detail)) return false;
    const keys = /\((.*)\)$/.exec(detail)?.[1] ?? '';
    return !/\b(token|hold_id|seat_id|user_id|client_ip)=/.test(keys);
  };

  it('When a batch books, releases, extends, expires and holds for several buyers, then every read of holds and seats is keyed', async () => {
    const node = env.nodes[0]!;
    const inv = node.services.inventory;
    const ev = await seedEvent(env, { rows: 4, seatsPerRow: 25, holdTtlSeconds: 60 });
    const users = (await createUsers(env, 12)).map((u) => actorOf(u));
    const seat = (i: number) => ev.seatIds[i]!;
    // Holds that stay, so the event has more holds and held seats than any one batch names.
    for (let i = 0; i < 4; i++) await inv.hold(users[i]!, ev.eventId, { seatIds: [seat(40 + 2 * i), seat(41 + 2 * i)], clientIp: `10.0.0.${i}` });
    // Two holds that lapse, then four to book, release and extend.
    const lapsing = [await inv.hold(users[4]!, ev.eventId, { seatIds: [seat(60)] }), await inv.hold(users[5]!, ev.eventId, { seatIds: [seat(61)] })];
    env.clock.advance(61_000);
    const named = [];
    for (let i = 0; i < 4; i++) named.push(await inv.hold(users[i]!, ev.eventId, { seatIds: [seat(2 * i), seat(2 * i + 1)], clientIp: `10.0.0.${i}` }));

    const statements = new Map<string, unknown[]>();
    const listen = (q: QueryEvent) => {
      if (q.__knexTxId && !/^(BEGIN|COMMIT|ROLLBACK)/.test(q.sql)) statements.set(q.sql, q.bindings ?? []);
    };
    node.db.on('query', listen);
    const answers = await Promise.allSettled([
      inv.book(users[0]!, named[0]!.hold.token, randomUUID()),
      inv.book(users[1]!, named[1]!.hold.token, randomUUID()),
      inv.release(users[2]!, named[2]!.hold.token),
      inv.extend(users[3]!, named[3]!.hold.token),
      ...[6, 7, 8, 9, 10, 11].map((u, i) => inv.hold(users[u]!, ev.eventId, { seatIds: [seat(20 + i)], clientIp: `10.0.1.${i}` })),
      inv.hold(users[0]!, ev.eventId, { seatIds: [seat(61)], clientIp: '10.0.0.0' }), // a lapsed hold's seat
      inv.sweep(),
    ]);
    node.db.removeListener('query', listen);
    expect(answers.filter((a) => a.status === 'rejected')).toEqual([]);
    expect(await env.db('holds').whereIn('id', lapsing.map((l) => l.hold.id)).pluck('status')).toEqual(['expired', 'expired']);

    // The batches' statements include each shape this test is about.
    const sqls = [...statements.keys()];
    const shapes = [/`token` in \(\?, \?, \?, \?/, /^update `?holds/, /`h`.`user_id` as `k`, count/, /`h`.`client_ip` as `k`, count/, /`hold_id` in/];
    for (const shape of shapes) {
      expect(sqls.some((s) => shape.test(s))).toBe(true);
    }
    const bad: string[] = [];
    for (const [sql, bindings] of statements) {
      const plan = (await node.db.raw(`EXPLAIN QUERY PLAN ${sql}`, bindings as never[])) as { detail: string }[];
      for (const step of plan) if (unkeyed(step.detail)) bad.push(`${step.detail}  <=  ${sql.slice(0, 160)}`);
    }
    expect(bad).toEqual([]);
    expect(await invariantViolations(env.db, ev.eventId)).toEqual([]);
  });
});
