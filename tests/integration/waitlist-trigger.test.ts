import { describeEach, testDialects } from '../helpers/dialects';
import { actorOf, createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';
import type { QueryEvent } from '../helpers/queries';

/**
 * Seats a batch frees go to the waitlist only when someone waits for the event, and whether anyone does is read
 * with the batch's rules, in its own first round (server/inventory/batch-read.ts, FreedSeatsWanted): a flash sale
 * releases and expires thousands of holds, and a read after each was a round trip of its own. The matcher's ticker
 * is off here, so an offer can only come from the batch.
 */
describeEach(testDialects(), 'freed seats and the waitlist on %s', (dialect) => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ dialect, sweeper: false });
  });
  afterAll(() => env.stop());

  /** Runs `work` and returns the statements sent outside any transaction that read waitlist entries. */
  const waitlistReadsOutsideBatches = async (work: () => Promise<unknown>): Promise<string[]> => {
    const node = env.nodes[0]!;
    const seen: string[] = [];
    const listen = (q: QueryEvent) => {
      if (!q.__knexTxId && /waitlist_entries/.test(q.sql)) seen.push(q.sql);
    };
    node.db.on('query', listen);
    try {
      await work();
      await node.services.waitlist.idle();
    } finally {
      node.db.removeListener('query', listen);
    }
    return seen;
  };

  it('When seats are released and expire in an event nobody waits for, then no waitlist read follows', async () => {
    const { inventory } = env.nodes[0]!.services;
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 4, holdTtlSeconds: 60 });
    const [a, b] = (await createUsers(env, 2)).map((u) => actorOf(u));
    const reads = await waitlistReadsOutsideBatches(async () => {
      const released = await inventory.hold(a!, ev.eventId, { seatIds: [ev.seatIds[0]!] });
      await inventory.hold(b!, ev.eventId, { seatIds: [ev.seatIds[1]!] });
      expect((await inventory.release(a!, released.hold.token)).released).toEqual([ev.seatIds[0]]);
      env.clock.advance(61_000);
      expect(await inventory.sweep()).toBe(1);
    });
    expect(reads).toEqual([]);
  });

  it('When someone waits, then seats a release frees are offered to them, and seats an expiry frees too', async () => {
    const { inventory, waitlist } = env.nodes[0]!.services;
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 2, holdTtlSeconds: 60 });
    const [holder, first, second] = await createUsers(env, 3);
    const h = actorOf(holder!);
    const released = await inventory.hold(h, ev.eventId, { seatIds: [ev.seatIds[0]!] });
    await inventory.hold(h, ev.eventId, { seatIds: [ev.seatIds[1]!] });
    await waitlist.join(actorOf(first!), ev.eventId, { partySize: 1, together: false });
    await waitlist.join(actorOf(second!), ev.eventId, { partySize: 1, together: false });
    await waitlist.idle();
    const statusOf = async (userId: number) => (await env.db('waitlist_entries').where({ event_id: ev.eventId, user_id: userId }).first('status')).status;
    expect([await statusOf(first!.id), await statusOf(second!.id)]).toEqual(['waiting', 'waiting']);

    await inventory.release(h, released.hold.token);
    await waitlist.idle();
    expect([await statusOf(first!.id), await statusOf(second!.id)]).toEqual(['offered', 'waiting']);

    env.clock.advance(61_000);
    await inventory.sweep(); // the holder's other hold lapses (and so does the first entry's offer)
    await waitlist.idle();
    expect(await statusOf(second!.id)).toBe('offered');
  });
});
