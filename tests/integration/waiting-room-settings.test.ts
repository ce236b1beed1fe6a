import type { Db } from '../../server/db/knex';
import { WaitingRoomConfigs } from '../../server/queue/config-store';
import { describeEach, mysqlAvailable } from '../helpers/dialects';
import { startTestEnv, type TestEnv } from '../helpers/env';
import { until } from '../helpers/sockets';
import { seedWaitingRoom } from '../helpers/waiting-room';

/**
 * The waiting room's settings as each node keeps them (server/queue/config-store.ts): every hold asks for them, so
 * they are read once for many asks, kept a second, refreshed behind the asks when older, and a write is never
 * overwritten by a read that started before it. Real reads of the real table; the cache's age moves by hand.
 */
const cases = [{ dialect: 'sqlite' as const }, ...(mysqlAvailable() ? [{ dialect: 'mysql' as const }] : [])];
const MIN = 60_000;

describeEach(cases, 'Waiting room settings ($dialect)', ({ dialect }) => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ dialect, redis: false, sweeper: false });
  }, 60_000);
  afterAll(() => env?.stop(), 60_000);

  const iso = (ms: number) => new Date(env.clock.now() + ms).toISOString();
  const setup = (config: Record<string, unknown>) => seedWaitingRoom(env, config, { rows: 1, seatsPerRow: 4 });

  it('When many holds ask for an event’s waiting room at once on a cold cache, then one read answers them all', async () => {
    const { event } = await setup({ maxActive: 5 });
    const db = env.nodes[0]!.db;
    const configs = new WaitingRoomConfigs(db);
    let reads = 0;
    const count = (q: { sql: string }) => {
      if (/waiting_rooms/.test(q.sql)) reads++;
    };
    db.on('query', count);
    const answers = await Promise.all(Array.from({ length: 50 }, () => configs.get(event.eventId)));
    db.off('query', count);
    expect(reads).toBe(1);
    expect(answers[0]).toMatchObject({ eventId: event.eventId, enabled: true, maxActive: 5 });
    expect(new Set(answers).size).toBe(1);
  });

  it('When the settings copy is over a second old, then it answers at once while one read refreshes it; when it is much older, the caller waits for the read', async () => {
    const { event } = await setup({ maxActive: 5 });
    const db = env.nodes[0]!.db;
    // Reads of the settings are real reads of the real table, held on their way back while the gate is shut.
    let shut: Promise<void> | undefined;
    let open = () => {};
    let arrived = () => {};
    let reads = 0;
    const gated = ((...args: Parameters<Db>) => {
      const qb = db(...args);
      const first = qb.first.bind(qb);
      return Object.assign(qb, {
        first: (...cols: string[]) => {
          reads++;
          return first(...cols).then(async (row: unknown) => {
            arrived();
            await shut;
            return row;
          });
        },
      });
    }) as unknown as Db;
    const shutGate = () => {
      shut = new Promise((r) => (open = r));
      return new Promise<void>((r) => (arrived = r));
    };
    let now = 1_000_000;
    const configs = new WaitingRoomConfigs(gated, () => now);
    expect(await configs.get(event.eventId)).toMatchObject({ maxActive: 5 });
    const WAITED = 'waited for the read';

    // Another node changes the settings (straight in the table: nothing tells this cache).
    await db('waiting_rooms').where({ event_id: event.eventId }).update({ max_active: 7 });
    now += 1500;
    let atGate = shutGate();
    const stale = configs.get(event.eventId);
    expect(await Promise.race([stale, atGate.then(() => WAITED)])).toMatchObject({ maxActive: 5 });
    expect(await configs.get(event.eventId)).toMatchObject({ maxActive: 5 }); // the same read still out
    expect(reads).toBe(2);
    open();
    await until(async () => (await configs.get(event.eventId))?.maxActive === 7, 5000, 'the refreshed copy');
    expect(reads).toBe(2);

    // Past the stale allowance the caller waits for the read, and gets what it read.
    await db('waiting_rooms').where({ event_id: event.eventId }).update({ max_active: 9 });
    now += 12_000;
    atGate = shutGate();
    const fresh = configs.get(event.eventId);
    expect(await Promise.race([fresh, atGate.then(() => WAITED)])).toBe(WAITED);
    open();
    expect(await fresh).toMatchObject({ maxActive: 9 });
    expect(reads).toBe(3);
  });

  it('When the settings change while a read of them is in flight, then that read’s older answer is not cached', async () => {
    const { event } = await setup({ maxActive: 5 });
    const db = env.nodes[0]!.db;
    // The first read of the settings returns only when the test says so, after the change below (a real read
    // of the real table, held back on its way to the cache).
    let readDone!: () => void;
    const read = new Promise<void>((r) => (readDone = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let held = false;
    const gated = ((...args: Parameters<Db>) => {
      const qb = db(...args);
      if (held) return qb;
      held = true;
      const first = qb.first.bind(qb);
      return Object.assign(qb, {
        first: (...cols: string[]) =>
          first(...cols).then(async (row: unknown) => {
            readDone();
            await gate;
            return row;
          }),
      });
    }) as unknown as Db;
    const configs = new WaitingRoomConfigs(gated);
    const older = configs.get(event.eventId);
    await read;
    const body = { enabled: true, opensAt: iso(-MIN), saleStartsAt: iso(MIN), maxActive: 7, windowSeconds: 600 };
    expect(await configs.put(event.eventId, body as Parameters<WaitingRoomConfigs['put']>[1], env.clock.now())).toMatchObject({ maxActive: 7 });
    release();
    expect(await older).toMatchObject({ maxActive: 5 });
    expect(await configs.get(event.eventId)).toMatchObject({ maxActive: 7 });
  });
});
