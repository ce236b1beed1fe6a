import { describeEach, testDialects } from '../helpers/dialects';
import { actorOf, createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';

/**
 * SeatsService reuses the last snapshot of an event on SQLite while no seat changed (a synchronous read of a
 * big venue cannot be shared by joins that arrive one after another). A reused snapshot must never be stale.
 */
describeEach(testDialects(), 'snapshot reuse on %s', (dialect) => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ dialect, nodes: 2, sweeper: false });
  });
  afterAll(() => env.stop());

  it('When nothing changed, SQLite reuses the snapshot; after a change on either node, every snapshot shows it', async () => {
    const ev = await seedEvent(env, { rows: 2, seatsPerRow: 5 });
    const [buyer] = (await createUsers(env, 1)).map((u) => actorOf(u));
    const [a, b] = env.nodes.map((n) => n.services.seats);
    const first = await a!.snapshot(ev.eventId);
    const again = await a!.snapshot(ev.eventId);
    expect(again === first).toBe(dialect === 'sqlite');
    expect(again).toEqual(first);

    // A hold through the OTHER node: this node's cached snapshot must not be served.
    const hold = await b!.hold(buyer!, ev.eventId, { seatIds: [ev.seatIds[3]!] });
    const after = await a!.snapshot(ev.eventId);
    expect(after.cursor).toBeGreaterThan(first.cursor);
    expect(after.seats.find((s) => s.id === ev.seatIds[3])).toMatchObject({ status: 'held' });
    expect(first.seats.find((s) => s.id === ev.seatIds[3])).toMatchObject({ status: 'available' }); // not mutated

    await b!.release(buyer!, hold.holdToken);
    const released = await a!.snapshot(ev.eventId);
    expect(released.seats.find((s) => s.id === ev.seatIds[3])).toMatchObject({ status: 'available' });
    expect(released.cursor).toBeGreaterThan(after.cursor);
    const seatsInDb = await env.db('event_seats').where({ event_id: ev.eventId }).orderBy('seat_id').select('seat_id', 'status', 'version');
    expect(released.seats.map((s) => [s.id, s.status, s.version]).sort((x, y) => (x[0] as number) - (y[0] as number))).toEqual(seatsInDb.map((r) => [r.seat_id, r.status, r.version]));
  });
});
