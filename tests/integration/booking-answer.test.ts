import { randomUUID } from 'node:crypto';
import { describeEach, testDialects } from '../helpers/dialects';
import { actorOf, createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';
import { seedGaEvent } from '../helpers/ga';
import type { QueryEvent } from '../helpers/queries';

/**
 * A new booking is answered from what its batch wrote and the venue's seats, with no read after COMMIT (in a flash
 * sale those reads held pool connections the next batches waited for). The answer must still be exactly what the
 * booking reads back as afterwards.
 */
describeEach(testDialects(), 'the answer to a new booking on %s', (dialect) => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ dialect, sweeper: false });
  });
  afterAll(() => env.stop());

  /** Runs `work` and returns the statements the node sent meanwhile that read the booking's seats or GA lines. */
  async function bookingReadsDuring<T>(work: () => Promise<T>): Promise<{ result: T; reads: string[] }> {
    const node = env.nodes[0]!;
    const reads: string[] = [];
    const listen = (q: QueryEvent) => {
      if (/^select .*from [`"]?booking_(seats|ga_lines)/i.test(q.sql)) reads.push(q.sql);
    };
    node.db.on('query', listen);
    try {
      return { result: await work(), reads };
    } finally {
      node.db.removeListener('query', listen);
    }
  }

  it('When seats across sections and categories are booked, then the answer is the booking as read back, and nothing was read to make it', async () => {
    const { bookings, seats } = env.nodes[0]!.services;
    const ev = await seedEvent(env, { rows: 2, seatsPerRow: 5 });
    const [u] = await createUsers(env, 1);
    const buyer = actorOf(u!);
    // A front-row seat (5000) and a standard one (3000), asked for out of seat order.
    const hold = await seats.hold(buyer, ev.eventId, { seatIds: [ev.seatIds[7]!, ev.seatIds[2]!] });

    const { result, reads } = await bookingReadsDuring(() => bookings.confirm(buyer, hold.holdToken, randomUUID()));

    expect(reads).toEqual([]);
    expect(result.replayed).toBe(false);
    expect(result.booking.seats.map((s) => [s.seatId, s.priceCents])).toEqual([
      [ev.seatIds[2]!, 5000],
      [ev.seatIds[7]!, 3000],
    ]);
    expect(result.booking.totalCents).toBe(8000);
    expect(result.booking).toEqual(await bookings.get(buyer, result.booking.id));
  });

  it('When a hold of general-admission tickets is booked, then its lines are in the answer as read back', async () => {
    const { bookings, ga } = env.nodes[0]!.services;
    const ev = await seedGaEvent(env);
    const [u] = await createUsers(env, 1);
    const buyer = actorOf(u!);
    const hold = await ga.hold(buyer, ev.eventId, { sectionId: ev.sectionId, quantity: 3 });

    const { result } = await bookingReadsDuring(() => bookings.confirm(buyer, hold.holdToken, randomUUID()));

    expect(result.booking.ga).toEqual([{ sectionId: ev.sectionId, section: 'Standing', quantity: 3, priceCents: 1500 }]);
    expect(result.booking.seats).toEqual([]);
    expect(result.booking).toEqual(await bookings.get(buyer, result.booking.id));
  });

  it('When a box office books a walk-in hold, then the answer carries the customer as read back', async () => {
    const { bookings, seats } = env.nodes[0]!.services;
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 4 });
    const [staffUser] = await createUsers(env, 1, 'box_office');
    const staff = actorOf(staffUser!, 'box_office');
    const hold = await seats.hold(staff, ev.eventId, { seatIds: [ev.seatIds[1]!], customer: { name: 'Walk In', email: 'walk.in@example.com' } });

    const { result, reads } = await bookingReadsDuring(() => bookings.confirm(staff, hold.holdToken, randomUUID()));

    expect(reads).toEqual([]);
    expect(result.booking.customer).toEqual({ name: 'Walk In', email: 'walk.in@example.com' });
    expect(result.booking).toEqual(await bookings.get(staff, result.booking.id));
  });

  it('When a booking is sent again with its key, then the replay answers the same booking, read from the database', async () => {
    const { bookings, seats } = env.nodes[0]!.services;
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 4 });
    const [u] = await createUsers(env, 1);
    const buyer = actorOf(u!);
    const hold = await seats.hold(buyer, ev.eventId, { seatIds: [ev.seatIds[0]!, ev.seatIds[3]!] });
    const key = randomUUID();
    const first = await bookings.confirm(buyer, hold.holdToken, key);

    const { result, reads } = await bookingReadsDuring(() => bookings.confirm(buyer, hold.holdToken, key));

    expect(result.replayed).toBe(true);
    expect(reads.length).toBeGreaterThan(0);
    expect(result.booking).toEqual(first.booking);
  });
});
