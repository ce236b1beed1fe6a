import { randomUUID } from 'node:crypto';
import { AppError } from '../../server/shared/errors';
import { describeEach, testDialects } from '../helpers/dialects';
import { actorOf, createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';

/** `Idempotency-Key` is unique per owner and event (a sharded index can only be unique within its event). */
describeEach(testDialects(), 'idempotency keys per event on %s', (dialect) => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ dialect, sweeper: false });
  });
  afterAll(() => env.stop());

  it('When one buyer uses one key on two events, then each event books once; in one event the key replays or is refused for another hold', async () => {
    const [a, b] = [await seedEvent(env, { rows: 1, seatsPerRow: 4 }), await seedEvent(env, { rows: 1, seatsPerRow: 4 })];
    const [buyer] = (await createUsers(env, 1)).map((u) => actorOf(u));
    const { seats, bookings } = env.nodes[0]!.services;
    const key = randomUUID();
    const onA = await seats.hold(buyer!, a.eventId, { seatIds: [a.seatIds[0]!] });
    const onB = await seats.hold(buyer!, b.eventId, { seatIds: [b.seatIds[0]!] });

    const first = await bookings.confirm(buyer!, onA.holdToken, key);
    const second = await bookings.confirm(buyer!, onB.holdToken, key);
    expect([first.replayed, second.replayed]).toEqual([false, false]);
    expect(second.booking.id).not.toBe(first.booking.id);
    expect([first.booking.eventId, second.booking.eventId]).toEqual([a.eventId, b.eventId]);

    const again = await bookings.confirm(buyer!, onA.holdToken, key);
    expect(again).toMatchObject({ replayed: true, booking: { id: first.booking.id } });

    const other = await seats.hold(buyer!, a.eventId, { seatIds: [a.seatIds[1]!] });
    const refused = await bookings.confirm(buyer!, other.holdToken, key).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await env.db('bookings').where({ user_id: buyer!.id, idempotency_key: key }).orderBy('event_id').select('event_id')).toEqual([{ event_id: a.eventId }, { event_id: b.eventId }]);
    expect(await env.db('holds').where({ token: other.holdToken }).first('status')).toEqual({ status: 'active' });
  });
});
