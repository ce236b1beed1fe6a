import { randomUUID } from 'node:crypto';
import type { EventlyNode } from '../../server/entry/node';
import { SEAT_BATCH_DEFAULTS } from '../../server/config';
import { AppError } from '../../server/shared/errors';
import { describeEach, mysqlDialects, testDialects } from '../helpers/dialects';
import { actorOf, createUsers, seedEvent, startTestEnv, type SeededEvent, type TestEnv } from '../helpers/env';
import { invariantViolations } from '../property/invariants';
import { untilLockWait } from '../helpers/mysql';
import { send, watch, type Watcher } from '../helpers/sockets';
import mysql from 'mysql2/promise';

/** Batches this node has committed so far: how many, and how many commands they decided. */
function batches(node: EventlyNode): { count: number; commands: number } {
  const h = (node.metrics.seatBatchSize as unknown as { hashMap: Record<string, { count: number; sum: number }> }).hashMap;
  const v = Object.values(h)[0];
  return { count: v?.count ?? 0, commands: v?.sum ?? 0 };
}

/** An answer reduced to what must not depend on batching: success and the seats, or the error code and its seats. */
function normalise(ev: SeededEvent, out: PromiseSettledResult<unknown>): unknown {
  const index = (id: number) => ev.seatIds.indexOf(id);
  if (out.status === 'rejected') {
    const err = out.reason as AppError;
    if (!(err instanceof AppError)) throw err;
    const seatIds = (err.details as { seatIds?: number[] } | undefined)?.seatIds;
    return { code: err.code, ...(seatIds ? { seats: seatIds.map(index) } : {}) };
  }
  const v = out.value as { seats?: { id: number; status: string }[]; released?: number[]; booking?: { status: string; total_cents: number }; replayed?: boolean };
  if (v.booking) return { booked: v.booking.status, total: v.booking.total_cents, replayed: v.replayed };
  if (v.released) return { released: v.released.map(index) };
  return { seats: (v.seats ?? []).map((s) => [index(s.id), s.status]) };
}

describeEach(testDialects(), 'group commit on %s', (dialect) => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ dialect, sweeper: false });
  });
  afterAll(() => env.stop());

  it('When winners, losers, bad input and limit breaches arrive together, then each is answered exactly as if it ran alone', async () => {
    const node = env.nodes[0]!;
    const users = await createUsers(env, 7);
    const [staff] = await createUsers(env, 1, 'box_office');
    const u = users.map((x) => actorOf(x));
    const inv = node.services.inventory;
    const seat = (ev: SeededEvent, i: number) => ev.seatIds[i]!;
    // Holds that exist before the batch (their tokens are what later commands name).
    const prepare = async (ev: SeededEvent) => {
      const h6 = await inv.hold(u[5]!, ev.eventId, { seatIds: [seat(ev, 8)] });
      const h7 = await inv.hold(u[6]!, ev.eventId, { seatIds: [seat(ev, 9), seat(ev, 10)] });
      return { h6: h6.hold.token, h7: h7.hold.token };
    };
    const mix = (ev: SeededEvent, t: { h6: string; h7: string }, key = randomUUID()) => [
      () => inv.hold(u[0]!, ev.eventId, { seatIds: [seat(ev, 0), seat(ev, 1)] }), // wins
      () => inv.hold(u[1]!, ev.eventId, { seatIds: [seat(ev, 1), seat(ev, 2)] }), // loses seat 1 to the command before it
      () => inv.hold(u[2]!, ev.eventId, { seatIds: [999_999] }), // no such seat
      () => inv.hold(u[3]!, ev.eventId, { seatIds: [seat(ev, 3), seat(ev, 4)] }), // wins
      () => inv.hold(u[3]!, ev.eventId, { seatIds: [seat(ev, 5), seat(ev, 6), seat(ev, 7)] }), // over the per-user limit (4)
      () => inv.hold(u[4]!, ev.eventId, { seatIds: [0, 1, 2, 3, 4].map((i) => seat(ev, 11 + i)) }), // over the per-order limit (4)
      () => inv.release(u[0]!, t.h6), // not theirs
      () => inv.book(u[5]!, t.h6, key), // books
      () => inv.book(u[5]!, t.h6, key), // the same key again: the same booking, replayed
      () => inv.extend(u[5]!, t.h6), // already booked
      () => inv.release(u[6]!, t.h7, [seat(ev, 10)]), // some of a hold
      () => inv.hold(u[1]!, ev.eventId, { seatIds: [seat(ev, 2), seat(ev, 10)] }), // wins: its earlier refusal left nothing, seat 10 was just freed
      () => inv.release(actorOf(staff!, 'box_office'), t.h7), // staff force-release of the rest
      () => inv.hold(u[6]!, ev.eventId, { seatIds: [seat(ev, 9)] }), // takes back the seat just force-released
    ];
    const opts = { rows: 1, seatsPerRow: 16, maxSeatsPerOrder: 4, maxSeatsPerUser: 4 };

    // Alone: one command at a time on an event of its own.
    const alone = await seedEvent(env, opts);
    const aloneTokens = await prepare(alone);
    const aloneAnswers: unknown[] = [];
    for (const cmd of mix(alone, aloneTokens)) aloneAnswers.push(normalise(alone, (await Promise.allSettled([cmd()]))[0]!));

    // Together: everything sent in the same tick (and while a batch is in flight) forms one batch.
    const together = await seedEvent(env, opts);
    const tokens = await prepare(together);
    const before = batches(node);
    const first = inv.hold(u[0]!, together.eventId, { seatIds: [seat(together, 15)] });
    const settled = await Promise.allSettled(mix(together, tokens).map((cmd) => cmd()));
    await first;
    const after = batches(node);
    // Everything sent in one tick is decided together: the mix shares one transaction (with the first command, or
    // right after it), never one transaction per command.
    expect(after.count - before.count).toBeLessThanOrEqual(2);
    expect(after.commands - before.commands).toBe(1 + settled.length);
    expect(settled.map((s) => normalise(together, s))).toEqual(aloneAnswers);
    // And the answers were the interesting ones, not all alike.
    expect(new Set(aloneAnswers.map((a) => JSON.stringify(a).slice(0, 12))).size).toBeGreaterThanOrEqual(5);
    expect(await invariantViolations(env.db, together.eventId)).toEqual([]);
    const seatsOf = async (ev: SeededEvent) =>
      (await env.db('event_seats').where({ event_id: ev.eventId }).orderBy('seat_id').select('status')).map((r) => r.status).slice(0, 15);
    expect(await seatsOf(together)).toEqual(await seatsOf(alone));
  });

  it('When the largest batch the defaults allow arrives at once (100 holds of 10 seats), then it commits as one batch and books as one', async () => {
    const { maxCommands, maxSeats } = SEAT_BATCH_DEFAULTS;
    const per = maxSeats / maxCommands;
    // The statements of a full batch must fit the database. SQLite refuses more than 500 rows in one knex
    // multi-row insert (a compound SELECT), an expression tree deeper than 1,000 and more than 32,766 bindings.
    const node = env.nodes[0]!;
    const [clerk] = await createUsers(env, 1, 'box_office');
    const staff = actorOf(clerk!, 'box_office');
    const ev = await seedEvent(env, { rows: 10, seatsPerRow: 100, maxSeatsPerOrder: per });
    expect(ev.seatIds).toHaveLength(maxSeats);
    const inv = node.services.inventory;
    const before = batches(node);
    const holds = await Promise.all(Array.from({ length: maxCommands }, (_, i) => inv.hold(staff, ev.eventId, { seatIds: ev.seatIds.slice(per * i, per * i + per) })));
    const held = batches(node);
    expect(held.count - before.count).toBe(1);
    expect(held.commands - before.commands).toBe(maxCommands);
    expect(await env.db('event_seats').where({ event_id: ev.eventId, status: 'held' })).toHaveLength(maxSeats);

    const bookings = await Promise.all(holds.map((h) => inv.book(staff, h.hold.token, randomUUID())));
    const booked = batches(node);
    expect(booked.count - held.count).toBe(1);
    expect(new Set(bookings.map((b) => b.booking.id)).size).toBe(maxCommands);
    expect(await env.db('booking_seats').where({ event_id: ev.eventId, active: true })).toHaveLength(maxSeats);
    expect(await env.db('seat_changes').where({ event_id: ev.eventId, to_status: 'booked' })).toHaveLength(maxSeats);
    expect(await invariantViolations(env.db, ev.eventId)).toEqual([]);
  });

  it('When a batch fails whole (its event disappears under it), then every command gets an error and nothing is written', async () => {
    const node = env.nodes[0]!;
    const [a, b] = await createUsers(env, 2);
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 4 });
    const res = await Promise.allSettled([
      node.services.inventory.hold(actorOf(a!), 987_654, { seatIds: [ev.seatIds[0]!] }),
      node.services.inventory.hold(actorOf(b!), 987_654, { seatIds: [ev.seatIds[1]!] }),
    ]);
    expect(res.map((r) => (r.status === 'rejected' ? (r.reason as AppError).code : 'ok'))).toEqual(['EVENT_NOT_FOUND', 'EVENT_NOT_FOUND']);
    expect(await env.db('event_seats').where({ event_id: ev.eventId, status: 'held' })).toHaveLength(0);
    // Not even the buyers' holder rows (locked before the event is known to be missing): a probe of made-up event ids leaves nothing.
    expect(await env.db('event_holders').where({ event_id: 987_654 })).toHaveLength(0);
  });
});

describeEach(mysqlDialects(), 'group commit across two nodes on %s', (dialect) => {
  let env: TestEnv;
  const open: Watcher[] = [];
  beforeAll(async () => {
    env = await startTestEnv({ dialect, nodes: 2, redis: true, poolMax: 2 });
  });
  afterEach(() => open.splice(0).forEach((w) => w.close()));
  afterAll(() => env.stop());

  it('When 240 buyers on two nodes race for 10 seats in multi-seat holds, then batches form and no seat is held twice', async () => {
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 10, maxSeatsPerOrder: 3, maxSeatsPerUser: 3 });
    const users = await createUsers(env, 240);
    const sockets = users.map((x, i) => {
      const w = watch(env.nodes[i % 2]!.url, ev.eventId, { token: x.token });
      open.push(w);
      return w;
    });
    await Promise.all(sockets.map((w) => w.ready));
    const before = env.nodes.map(batches);
    const acks = await Promise.all(
      sockets.map((w, i) => {
        const start = i % 8;
        return send(w.socket, 'seat:hold', { seatIds: [ev.seatIds[start]!, ev.seatIds[start + 1]!, ev.seatIds[start + 2]!] });
      }),
    );
    const after = env.nodes.map(batches);
    // Batches of more than one command really happened (240 commands in fewer transactions).
    const commands = after.reduce((n, a, i) => n + a.commands - before[i]!.commands, 0);
    const count = after.reduce((n, a, i) => n + a.count - before[i]!.count, 0);
    expect(commands).toBe(240);
    expect(count).toBeLessThan(240);
    const won = acks.filter((a) => a.ok).flatMap((a) => (a.ok ? a.data.seats.map((s) => s.id) : []));
    expect(new Set(won).size).toBe(won.length); // no seat in two winning holds
    for (const a of acks) if (!a.ok) expect(a.error.code).toBe('SEAT_UNAVAILABLE');
    const held = await env.db('event_seats').where({ event_id: ev.eventId, status: 'held' }).orderBy('seat_id').select('seat_id', 'hold_id');
    expect(held.map((r) => r.seat_id).sort((x, y) => x - y)).toEqual([...won].sort((x, y) => x - y));
    expect(await invariantViolations(env.db, ev.eventId)).toEqual([]);
  });

  it('When a batch is chosen as a real deadlock victim, then it is retried whole and every command is answered once', async () => {
    const node = env.nodes[0]!;
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 6 });
    const [buyer] = await createUsers(env, 1);
    const conn = await mysql.createConnection({ uri: env.config.database.client === 'mysql2' ? env.config.database.url : '' });
    const retriesBefore = (await node.metrics.txRetries.get()).values[0]?.value ?? 0;
    try {
      await conn.query('SET SESSION innodb_lock_wait_timeout = 10');
      // Weight: a deadlock's victim is the transaction that changed fewer rows; make this one heavy.
      await conn.query('CREATE TABLE IF NOT EXISTS deadlock_ballast (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB');
      await conn.query(`INSERT IGNORE INTO deadlock_ballast VALUES ${Array.from({ length: 500 }, (_, i) => `(${i}, 0)`).join(',')}`);
      await conn.beginTransaction();
      await conn.query('UPDATE deadlock_ballast SET v = v + 1');
      await conn.query('UPDATE event_seats SET price_cents = price_cents + 0, version = version WHERE event_id = ? AND seat_id <> ?', [ev.eventId, ev.seatIds[5]]);
      // The batch locks the buyer's holder row for this event, then waits for seat 0, which this transaction holds.
      const hold = node.services.inventory.hold(actorOf(buyer!), ev.eventId, { seatIds: [ev.seatIds[0]!] });
      await untilLockWait(conn, 'the batch to wait for seat 0');
      // Now this transaction asks for the buyer's holder row: a cycle. InnoDB rolls back the lighter one: the batch.
      const mine = conn.query('UPDATE event_holders SET user_id = user_id WHERE event_id = ? AND user_id = ?', [ev.eventId, buyer!.id]);
      await mine; // this transaction got the row: the batch was rolled back (1213) and waits to run again
      await conn.commit();
      const answer = await hold;
      expect(answer.seats.map((s) => s.id)).toEqual([ev.seatIds[0]]);
    } finally {
      await conn.end();
    }
    const retriesAfter = (await node.metrics.txRetries.get()).values[0]?.value ?? 0;
    expect(retriesAfter).toBeGreaterThan(retriesBefore);
    expect(await env.db('holds').where({ event_id: ev.eventId, user_id: buyer!.id })).toHaveLength(1);
    expect(await env.db('seat_changes').where({ event_id: ev.eventId, to_status: 'held' })).toHaveLength(1);
    expect(await invariantViolations(env.db, ev.eventId)).toEqual([]);
  });
});
