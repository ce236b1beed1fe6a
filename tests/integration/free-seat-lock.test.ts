import mysql from 'mysql2/promise';
import { AppError } from '../../server/shared/errors';
import { describeEach, mysqlDialects } from '../helpers/dialects';
import { actorOf, createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';
import { lockWaitBefore, untilLockWait } from '../helpers/mysql';
import { invariantViolations } from '../property/invariants';

const codeOf = (r: PromiseSettledResult<unknown>) => (r.status === 'rejected' ? (r.reason as AppError).code : 'ok');

/**
 * A batch locks the asked-for seats that are free before it decides (server/inventory/batch-read.ts,
 * `freeSeatsLock`). It must wait for a free seat another transaction has locked (that one may be winning it), and
 * must never wait for a taken seat another transaction has locked (its hold being booked or released on another
 * node): two batches each waiting for a seat the other's hold was booking deadlocked. A sweep locks the seats of the
 * lapsed holds it expires, and no other seat of the event. Another transaction here is a connection of the test's
 * own, holding the lock for as long as the test says.
 */
describeEach(mysqlDialects(), 'the free-seat lock of a batch on %s', (dialect) => {
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

  const lockSeat = async (eventId: number, seatId: number) => {
    await conn.beginTransaction();
    await conn.query('SELECT seat_id FROM event_seats WHERE event_id = ? AND seat_id = ? FOR UPDATE', [eventId, seatId]);
  };

  it('When a taken seat is locked by another transaction, then holds that ask for it are answered without waiting for it', async () => {
    const inv = env.nodes[0]!.services.inventory;
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 80 });
    const u = (await createUsers(env, 4)).map((x) => actorOf(x));
    const s = (i: number) => ev.seatIds[i]!;
    await inv.hold(u[0]!, ev.eventId, { seatIds: [s(40)] });
    await lockSeat(ev.eventId, s(40));

    const answers = Promise.allSettled([
      inv.hold(u[1]!, ev.eventId, { seatIds: [s(39), s(40)] }), // the taken seat, with a free neighbour
      inv.hold(u[2]!, ev.eventId, { seatIds: [s(0), s(41), s(79)] }), // free seats around it, far apart
      inv.hold(u[3]!, ev.eventId, { seatIds: [s(40)] }), // the taken seat alone
    ]);
    // Until they are answered, look for a lock wait (a batch that waited would wait until this rollback).
    const waited = await lockWaitBefore(conn, answers);
    await conn.rollback();

    expect(waited).toBe(false);
    expect((await answers).map(codeOf)).toEqual(['SEAT_UNAVAILABLE', 'ok', 'SEAT_UNAVAILABLE']);
    expect(await invariantViolations(env.db, ev.eventId)).toEqual([]);
  });

  it('When a seat outside lapsed holds is locked by another transaction, then the sweep expires them without waiting for it', async () => {
    const inv = env.nodes[0]!.services.inventory;
    const ev = await seedEvent(env, { rows: 10, seatsPerRow: 100, holdTtlSeconds: 60, maxSeatsPerUser: 12 });
    const u = (await createUsers(env, 2)).map((x) => actorOf(x));
    const s = (i: number) => ev.seatIds[i]!;
    // Statistics taken while every seat is free, as in a sale's first minutes: to them `hold_id` tells no seat apart,
    // and MariaDB's own plan for the seats of several holds was a range of the event's seats (all 1,000, locked).
    await conn.query('ANALYZE TABLE event_seats');
    const lapsing = [];
    for (let i = 0; i < 6; i++) lapsing.push((await inv.hold(u[0]!, ev.eventId, { seatIds: [s(100 + 150 * i), s(101 + 150 * i)] })).hold.id);
    env.clock.advance(61_000);
    await inv.hold(u[1]!, ev.eventId, { seatIds: [s(400)] }); // taken, live, and between the lapsed holds' seats
    await lockSeat(ev.eventId, s(400));

    // The lapsed holds' seats are read (locked) through the holds they are in, not by a range of the event's seats.
    const swept = inv.sweep();
    const waited = await lockWaitBefore(conn, swept);
    await conn.rollback();

    expect(waited).toBe(false);
    expect(await swept).toBe(6);
    expect(await env.db('holds').whereIn('id', lapsing).pluck('status')).toEqual(Array(6).fill('expired'));
    expect(await invariantViolations(env.db, ev.eventId)).toEqual([]);
  });

  it('When a sweep waits for a lapsed seat another transaction locked, then it holds no lapsed seat after it (seat order)', async () => {
    const inv = env.nodes[0]!.services.inventory;
    const ev = await seedEvent(env, { rows: 10, seatsPerRow: 100, holdTtlSeconds: 60 });
    const u = (await createUsers(env, 2)).map((x) => actorOf(x));
    const s = (i: number) => ev.seatIds[i]!;
    // The older hold has the later seat: in hold order the sweep would lock seat 900 first, in seat order seat 100.
    await inv.hold(u[0]!, ev.eventId, { seatIds: [s(900)] });
    await inv.hold(u[1]!, ev.eventId, { seatIds: [s(100)] });
    env.clock.advance(61_000);
    await lockSeat(ev.eventId, s(100)); // as a hold's free-seat lock would: a lapsed seat is free to a hold

    const swept = inv.sweep();
    await untilLockWait(conn, 'the sweep to wait for seat 100');
    // A hold locking free seats goes in seat order too, so it must find seat 900 not taken by the waiting sweep.
    const later = await conn.query('SELECT seat_id FROM event_seats WHERE event_id = ? AND seat_id = ? FOR UPDATE NOWAIT', [ev.eventId, s(900)]).then(
      () => 'locked',
      (err: { code?: string }) => String(err.code),
    );
    await conn.rollback();

    expect(later).toBe('locked');
    await swept;
    expect(await env.db('holds').where({ event_id: ev.eventId }).pluck('status')).toEqual(['expired', 'expired']);
    expect(await invariantViolations(env.db, ev.eventId)).toEqual([]);
  });

  it('When a free seat is locked by another transaction that then takes it, then a hold that asks for it waits and is refused', async () => {
    const inv = env.nodes[0]!.services.inventory;
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 10 });
    const [buyer] = (await createUsers(env, 1)).map((u) => actorOf(u));
    const seat = ev.seatIds[3]!;
    await lockSeat(ev.eventId, seat);

    const answer = Promise.allSettled([inv.hold(buyer!, ev.eventId, { seatIds: [seat] })]);
    await untilLockWait(conn, 'the batch to wait for the free seat');
    await conn.query("UPDATE event_seats SET status = 'blocked', version = version + 1 WHERE event_id = ? AND seat_id = ?", [ev.eventId, seat]);
    await conn.commit();

    const [out] = await answer;
    expect(codeOf(out!)).toBe('SEAT_UNAVAILABLE');
    expect(await env.db('holds').where({ event_id: ev.eventId, user_id: buyer!.id })).toHaveLength(0);
    expect(await invariantViolations(env.db, ev.eventId)).toEqual([]);
  });
});
