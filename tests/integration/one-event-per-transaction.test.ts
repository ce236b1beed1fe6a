import { randomUUID } from 'node:crypto';
import type { Db } from '../../server/db/knex';
import { describeEach, mysqlDialects } from '../helpers/dialects';
import { actorOf, createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';
import { seedGaEvent } from '../helpers/ga';

/**
 * The sharding claim of docs/SCALING.md, checked mechanically: every transaction that touches an event's rows
 * touches ONE event, writes no row of an unsharded table, and locks no row of one. `event_id` can then be the
 * sharding key and every seat transaction stays on one shard.
 *
 * How it is recorded, without changing the server: each node's knex client is wrapped so that just before a
 * transaction's BEGIN (sent alone or, as the client does, in front of the transaction's first statement) the same
 * connection runs `SET @evently_tx = <n>` (a connection runs its statements in order, so nothing of the transaction
 * can come before it), and `NULL` after its COMMIT/ROLLBACK (or the round that ends in COMMIT). Triggers on every
 * table copy the session's `@evently_tx` and the row's event into `tx_audit` (InnoDB, so a rolled-back
 * transaction leaves no audit rows, as it leaves no other rows). Locking reads come from the statements the
 * wrapper sees, grouped by the same number.
 */

/** Tables sharded by event, with the column that names the event of a row. */
const SHARDED: Record<string, string> = {
  events: 'id',
  event_prices: 'event_id',
  event_seats: 'event_id',
  holds: 'event_id',
  seat_changes: 'event_id',
  bookings: 'event_id',
  booking_seats: 'event_id',
  waitlist_entries: 'event_id',
  event_ga_areas: 'event_id',
  hold_ga_lines: 'event_id',
  booking_ga_lines: 'event_id',
  event_holders: 'event_id',
  // Webhook domain events, written in the transaction of the change they report (issue 14).
  outbox: 'event_id',
};
/** Tables that stay unsharded (docs/SCALING.md, keyspace `main`). */
const UNSHARDED = ['users', 'venues', 'sections', 'seats'];

interface Statement {
  tx: number | null;
  sql: string;
}
interface Recorder {
  next: number;
  statements: Statement[];
}

/**
 * Tags each transaction on a connection of `db`'s kind of client with a number the triggers can read (see the
 * file comment). The wrapper goes on the client's prototype: knex runs a transaction's statements through a
 * client made from that prototype, not through the instance. Jest loads knex afresh for each test file, so the
 * wrapper stays in this file.
 */
function instrument(db: Db, rec: Recorder): void {
  type QueryFn = (this: unknown, conn: object, obj: string | { sql: string }) => Promise<unknown>;
  const proto = Object.getPrototypeOf(db.client) as { _query: QueryFn };
  const originalFn = proto._query;
  const txOf = new WeakMap<object, number>();
  proto._query = function (this: unknown, conn, obj) {
    const query = (conn as { query(sql: string, cb: () => void): void }).query.bind(conn);
    let sql = typeof obj === 'string' ? obj : obj.sql;
    // The client folds BEGIN into the transaction's first statement and may fold COMMIT into its last one
    // (server/db/mysql-client.ts): `BEGIN;\n<statements>` and `<statements>;\nCOMMIT`.
    if (/^BEGIN\b/i.test(sql)) {
      const id = ++rec.next;
      txOf.set(conn, id);
      // Before the query: a connection runs its commands in order, so the tag is set when the BEGIN runs.
      query(`SET @evently_tx = ${id}`, () => undefined);
      sql = sql.replace(/^BEGIN;?\s*/i, '');
    }
    const run = originalFn.call(this, conn, obj);
    const ends = /^(COMMIT|ROLLBACK)\b(?!\s+TO)/i.test(sql) || /;\s*COMMIT$/i.test(sql);
    if (sql && !/^(COMMIT|ROLLBACK)\b(?!\s+TO)/i.test(sql)) rec.statements.push({ tx: txOf.get(conn) ?? null, sql });
    if (ends) {
      txOf.delete(conn);
      query('SET @evently_tx = NULL', () => undefined);
    }
    return run;
  };
}

async function installAuditTriggers(db: Db): Promise<void> {
  await db.raw('CREATE TABLE tx_audit (id BIGINT AUTO_INCREMENT PRIMARY KEY, tx BIGINT NULL, event_id INT NULL, tbl VARCHAR(40) NOT NULL) ENGINE=InnoDB');
  const tables: [string, string | null][] = [...Object.entries(SHARDED), ...UNSHARDED.map((t): [string, null] => [t, null])];
  for (const [table, column] of tables) {
    for (const op of ['INSERT', 'UPDATE', 'DELETE']) {
      const row = op === 'DELETE' ? 'OLD' : 'NEW';
      const event = column ? `${row}.${column}` : 'NULL';
      await db.raw(`CREATE TRIGGER audit_${table}_${op.toLowerCase()} AFTER ${op} ON ${table} FOR EACH ROW INSERT INTO tx_audit (tx, event_id, tbl) VALUES (@evently_tx, ${event}, '${table}')`);
    }
  }
}

interface AuditRow {
  tx: number | null;
  event_id: number | null;
  tbl: string;
}

/** What breaks the claim, one line per offending transaction. */
function violations(rows: AuditRow[], statements: Statement[]): string[] {
  const found: string[] = [];
  const byTx = new Map<number, AuditRow[]>();
  for (const r of rows) {
    if (r.tx === null) continue; // a statement on its own: checked by its text below
    byTx.set(Number(r.tx), [...(byTx.get(Number(r.tx)) ?? []), r]);
  }
  const seatTx = new Set<number>();
  for (const [tx, list] of byTx) {
    const sharded = list.filter((r) => r.tbl in SHARDED);
    if (!sharded.length) continue;
    seatTx.add(tx);
    const events = new Set(sharded.map((r) => r.event_id));
    if (events.size > 1) found.push(`transaction ${tx} writes events ${[...events].join(', ')} (${[...new Set(sharded.map((r) => r.tbl))].join(', ')})`);
    const unsharded = [...new Set(list.filter((r) => !(r.tbl in SHARDED)).map((r) => r.tbl))];
    if (unsharded.length) found.push(`transaction ${tx} writes event rows and unsharded ${unsharded.join(', ')}`);
  }
  for (const s of statements) {
    // A write outside a transaction is a transaction of one statement: it must name its event, or one row by id.
    const written = /^\s*(?:insert\s+(?:ignore\s+)?into|update|delete\s+from)\s+`?(\w+)`?/i.exec(s.sql)?.[1];
    if (s.tx === null && written && written in SHARDED && !new RegExp(`\\b${SHARDED[written]}\\b`).test(s.sql) && !/`id` = \?/.test(s.sql)) {
      found.push(`a write to ${written} outside a transaction names neither its event nor one row: ${s.sql}`);
    }
    if (s.tx === null || !/\b(for update|lock in share mode|for share)\b/i.test(s.sql)) continue;
    const table = /\bfrom\s+`?(\w+)`?/i.exec(s.sql)?.[1] ?? '?';
    if (UNSHARDED.includes(table)) found.push(`transaction ${s.tx} locks rows of unsharded ${table}: ${s.sql}`);
    else if (table in SHARDED && !new RegExp(`\\b${SHARDED[table]}\\b`).test(s.sql)) found.push(`transaction ${s.tx} locks ${table} rows without naming the event: ${s.sql}`);
  }
  return found;
}

describeEach(mysqlDialects(), 'every seat transaction touches one event (%s)', (dialect) => {
  let env: TestEnv;
  const rec: Recorder = { next: 0, statements: [] };
  beforeAll(async () => {
    env = await startTestEnv({ dialect, nodes: 2, sweeper: false, poolMax: 4 });
    await installAuditTriggers(env.db);
    instrument(env.db, rec);
  });
  afterAll(() => env.stop());

  const audit = async () => (await env.db('tx_audit').orderBy('id').select('tx', 'event_id', 'tbl')) as AuditRow[];

  it('holds, adds, releases, extends, books, cancels, reseats, blocks, best available, GA, waitlist, expiry and event cancellation on two events at once', async () => {
    const [a, b] = [await seedEvent(env, { rows: 3, seatsPerRow: 10, holdTtlSeconds: 60 }), await seedEvent(env, { rows: 3, seatsPerRow: 10, holdTtlSeconds: 60 })];
    const ga = await seedGaEvent(env, { holdTtlSeconds: 60 });
    const buyers = (await createUsers(env, 4)).map((u) => actorOf(u));
    const [admin] = (await createUsers(env, 1, 'admin')).map((u) => actorOf(u, 'admin'));
    const [n0, n1] = env.nodes.map((n) => n.services);
    const evs = [a, b];

    // Every buyer holds on both events at once, through both nodes: one buyer's two holds must not share a lock.
    const holds = await Promise.all(
      buyers.flatMap((u, i) => evs.map((ev, j) => ((i + j) % 2 ? n1! : n0!).seats.hold(u, ev.eventId, { seatIds: [ev.seatIds[i * 3]!, ev.seatIds[i * 3 + 1]!] }))),
    );
    // Add to, release from, extend and book them, the events interleaved.
    await Promise.all(holds.map((h, k) => n0!.seats.hold(buyers[Math.floor(k / 2)]!, h.eventId, { holdToken: h.holdToken, seatIds: [evs[k % 2]!.seatIds[Math.floor(k / 2) * 3 + 2]!] })));
    await Promise.all(holds.map((h, k) => n1!.seats.release(buyers[Math.floor(k / 2)]!, h.holdToken, [h.seats[0]!.id])));
    await Promise.all(holds.map((h, k) => n0!.seats.extend(buyers[Math.floor(k / 2)]!, h.holdToken)));
    const booked = await Promise.all(holds.map((h, k) => (k % 2 ? n1! : n0!).bookings.confirm(buyers[Math.floor(k / 2)]!, h.holdToken, randomUUID())));

    // Waitlist: a buyer waits on event A for one seat in the front row, which is then freed by a cancellation.
    const frontOfA = a.seatIds.slice(0, 10);
    const blocked = frontOfA.filter((id) => !booked.some((bk) => bk.booking.seats.some((s) => s.seatId === id)));
    await n0!.boxOffice.block(admin!, a.eventId, blocked, 'house');
    const waiting = buyers[3]!;
    const entry = await n0!.waitlist.join(waiting, a.eventId, { partySize: 1, category: 'front', together: false });
    await n1!.bookings.cancel(buyers[0]!, booked[0]!.booking.id);
    await n0!.waitlist.process(a.eventId);
    const offered = await n0!.waitlist.mine(waiting, a.eventId);
    expect(offered?.id).toBe(entry.id);
    expect(offered?.offer).not.toBeNull();
    await n0!.waitlist.accept(waiting, entry.id, randomUUID());

    // Box office on both events at once: reseat, cancel, unblock.
    await Promise.all([
      n0!.boxOffice.reseat(admin!, booked[1]!.booking.id, [b.seatIds[25]!, b.seatIds[26]!]),
      n1!.boxOffice.cancelBooking(admin!, booked[2]!.booking.id),
      n0!.boxOffice.unblock(admin!, a.eventId, blocked),
    ]);

    // Best available and general admission, side by side.
    const [best, gaHold] = await Promise.all([n1!.best.holdBest(buyers[1]!, b.eventId, { quantity: 2, allowSplit: false }), n0!.ga.hold(buyers[2]!, ga.eventId, { sectionId: ga.sectionId, quantity: 2 })]);
    await Promise.all([n0!.bookings.confirm(buyers[1]!, best.holdToken, randomUUID()), n1!.bookings.confirm(buyers[2]!, gaHold.holdToken, randomUUID())]);

    // Expiry on both events in one sweep, from each node.
    await Promise.all(evs.map((ev, j) => n0!.seats.hold(buyers[j]!, ev.eventId, { seatIds: [ev.seatIds[28]!, ev.seatIds[29]!] })));
    await n1!.ga.hold(buyers[3]!, ga.eventId, { sectionId: ga.sectionId, quantity: 1 });
    env.clock.advance(61_000);
    const expired = (await Promise.all(env.nodes.map((n) => n.services.inventory.sweep()))).reduce((x, y) => x + y, 0);
    expect(expired).toBe(3);

    // An admin cancels event B with everything on it.
    const version = (await env.db('events').where({ id: b.eventId }).first('version')).version as number;
    await n1!.eventCancellation.cancelEvent(admin!, b.eventId, version, 'test');

    const rows = await audit();
    // The workload reached every table the claim is about (else the check below would prove little).
    const written = new Set(rows.map((r) => r.tbl));
    for (const table of ['event_seats', 'holds', 'seat_changes', 'bookings', 'booking_seats', 'waitlist_entries', 'event_ga_areas', 'hold_ga_lines', 'booking_ga_lines', 'event_holders', 'events', 'outbox']) {
      expect([table, written.has(table)]).toEqual([table, true]);
    }
    expect(new Set(rows.filter((r) => r.tx !== null).map((r) => r.tx)).size).toBeGreaterThan(30);
    expect(violations(rows, rec.statements)).toEqual([]);
  });

  it('finds a transaction that writes two events, one that locks a user row or holds of any event, and a lone write to any event', async () => {
    const [a, b] = [await seedEvent(env, { rows: 1, seatsPerRow: 2 }), await seedEvent(env, { rows: 1, seatsPerRow: 2 })];
    const [u] = await createUsers(env, 1);
    const db = env.nodes[0]!.db;
    const firstTx = rec.next + 1;
    const from = rec.statements.length;
    await db.transaction(async (trx) => {
      await trx('event_seats').whereIn('event_id', [a.eventId, b.eventId]).update({ version: trx.raw('version') });
    });
    await db.transaction(async (trx) => {
      await trx('users').where({ id: u!.id }).forUpdate().first('id');
      await trx('holds').where({ status: 'active' }).forUpdate().select('id');
      await trx('seat_changes').insert({ event_id: a.eventId, seat_id: a.seatIds[0], from_status: 'available', to_status: 'available', version: 1, reason: 'test', created_at: env.clock.now() });
    });
    await db('holds').where({ status: 'active' }).update({ expires_at: db.raw('expires_at') });
    const rows = (await audit()).filter((r) => r.tx !== null && Number(r.tx) >= firstTx);
    const found = violations(rows, rec.statements.slice(from));
    expect(found).toEqual([
      expect.stringMatching(new RegExp(`^transaction ${firstTx} writes events ${a.eventId}, ${b.eventId} \\(event_seats\\)$`)),
      expect.stringMatching(new RegExp(`^transaction ${firstTx + 1} locks rows of unsharded users`)),
      expect.stringMatching(new RegExp(`^transaction ${firstTx + 1} locks holds rows without naming the event`)),
      expect.stringMatching(/^a write to holds outside a transaction names neither its event nor one row/),
    ]);
  });
});
