import { randomBytes } from 'node:crypto';
import Redis, { Cluster } from 'ioredis';
import { startRedisCluster, type LocalRedisCluster } from '../../scripts/redis-cluster';
import { MemoryQueueStore } from '../../server/queue/memory-store';
import { seededRandom } from '../../server/queue/random';
import { RedisQueueStore } from '../../server/queue/redis-store';
import type { LineRules, QueueStore } from '../../server/queue/store';

/**
 * The waiting room's line rules, on both stores: the in-memory one (embedded node) and the Redis one (real Redis,
 * Lua scripts). Time is passed in, as the service passes its clock.
 */
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const T0 = 1_800_000_000_000;
const MIN = 60_000;

type Maker = { name: string; start?(): Promise<void>; make(): QueueStore; close(): Promise<void> };
const connections: Redis[] = [];
const prefix = `evently-test-${randomBytes(4).toString('hex')}`;
const makers: Maker[] = [
  { name: 'memory', make: () => new MemoryQueueStore(), close: async () => undefined },
  {
    name: 'redis',
    make: () => {
      const r = new Redis(REDIS_URL, { lazyConnect: false });
      connections.push(r);
      return new RedisQueueStore(r, prefix);
    },
    close: async () => {
      const keys = await connections[0]?.keys(`${prefix}:*`);
      if (keys?.length) await connections[0]!.del(...keys);
      await Promise.all(connections.splice(0).map((c) => c.quit()));
    },
  },
  // A Redis Cluster (3 masters): every key of an event shares the {event:<id>} slot, so the scripts run there.
  (() => {
    let cluster: LocalRedisCluster | undefined;
    const clients: Cluster[] = [];
    return {
      name: 'redis cluster',
      start: async () => {
        cluster = await startRedisCluster({ replicasPerMaster: 0 });
      },
      make: () => {
        const c = new Cluster(cluster!.seeds.split(',').map((s) => ({ host: s.split(':')[0]!, port: Number(s.split(':')[1]) })));
        clients.push(c);
        return new RedisQueueStore(c, prefix);
      },
      close: async () => {
        await Promise.all(clients.splice(0).map((c) => c.quit()));
        await cluster?.stop();
      },
    };
  })(),
];

let nextEvent = 1;
const rules = (over: Partial<LineRules> = {}): LineRules => ({ saleStartsAt: T0, maxActive: 5, admitPerMinute: null, windowMs: 10 * MIN, ...over });

/** Spearman's rank correlation of two orders of the same ids. */
function rankCorrelation(a: number[], b: number[]): number {
  const rankB = new Map(b.map((id, i) => [id, i]));
  const n = a.length;
  let d2 = 0;
  a.forEach((id, i) => (d2 += (i - rankB.get(id)!) ** 2));
  return 1 - (6 * d2) / (n * (n * n - 1));
}

describe.each(makers)('Queue store ($name)', (maker) => {
  let store: QueueStore;
  beforeAll(async () => {
    await maker.start?.();
    store = maker.make();
  }, 60_000);
  afterAll(() => maker.close(), 30_000);

  it('When 300 accounts join before the sale start, then the start draws them into a random order, not arrival order', async () => {
    const eventId = nextEvent++;
    const r = rules({ maxActive: 1000 });
    const random = seededRandom(12);
    const arrival = Array.from({ length: 300 }, (_, i) => 1000 + i);
    for (const [i, userId] of arrival.entries()) {
      const place = await store.join(eventId, userId, T0 - 5 * MIN + i, r, random());
      expect(place.state).toBe('lobby');
    }
    const places = await Promise.all(arrival.map((u) => store.status(eventId, u, T0, r)));
    const tickets = places.map((p) => (p.state === 'waiting' ? p.ticket : -1));
    expect([...tickets].sort((x, y) => x - y)).toEqual(arrival.map((_, i) => i + 1));
    const drawnOrder = [...arrival].sort((x, y) => tickets[arrival.indexOf(x)]! - tickets[arrival.indexOf(y)]!);
    // Arrival order would give 1; a random permutation of 300 gives |rho| < 0.2 with overwhelming probability.
    expect(Math.abs(rankCorrelation(arrival, drawnOrder))).toBeLessThan(0.2);
  });

  it('When accounts join after the start, then they are admitted first come, first served, behind the drawn lobby', async () => {
    const eventId = nextEvent++;
    const r = rules({ maxActive: 100 });
    await store.join(eventId, 1, T0 - 1, r, 0.9);
    await store.join(eventId, 2, T0 - 1, r, 0.1);
    for (const u of [10, 11, 12, 13]) await store.join(eventId, u, T0 + u, r, 0.5);
    const tick = await store.tick(eventId, T0 + 100, r, 0);
    expect(tick.log.map((a) => a.userId)).toEqual([2, 1, 10, 11, 12, 13]);
    expect(tick.head).toBe(6);
  });

  it('When an account joins twice, or after a reconnect, then it keeps one place; leaving and rejoining goes to the back', async () => {
    const eventId = nextEvent++;
    const r = rules({ maxActive: 1 });
    const a = await store.join(eventId, 1, T0 + 1, r, 0);
    await store.join(eventId, 2, T0 + 2, r, 0);
    const again = await store.join(eventId, 1, T0 + 3, r, 0);
    expect(again).toMatchObject({ state: 'waiting', ticket: (a as { ticket: number }).ticket });
    expect(again.totals.waiting).toBe(2);
    expect(await store.leave(eventId, 1, 'left')).toBe(false);
    const back = await store.join(eventId, 1, T0 + 4, r, 0);
    expect(back).toMatchObject({ state: 'waiting', ticket: 3 });
  });

  it('When maxActive is 2, then no more than 2 are active; a window that ends, a booking or a leave admits the next', async () => {
    const eventId = nextEvent++;
    const r = rules({ maxActive: 2, windowMs: 10 * MIN });
    for (const u of [1, 2, 3, 4, 5]) await store.join(eventId, u, T0 + u, r, 0);
    let t = await store.tick(eventId, T0 + 10, r, 0);
    expect(t).toMatchObject({ active: 2, admittedNow: 2, waiting: 3, head: 2 });
    expect((await store.tick(eventId, T0 + 20, r, 0)).admittedNow).toBe(0);
    expect(await store.isAdmitted(eventId, 1, T0 + 20)).toBe(true);
    expect(await store.isAdmitted(eventId, 3, T0 + 20)).toBe(false);
    // A booking passes the slot on.
    expect(await store.leave(eventId, 1, 'booked')).toBe(true);
    t = await store.tick(eventId, T0 + 30, r, 2);
    expect(t.log.map((a) => a.userId)).toEqual([3]);
    expect(await store.status(eventId, 1, T0 + 30, r)).toMatchObject({ state: 'done', reason: 'booked' });
    // The window of 2 ends: its slot goes to 4, and 2 can no longer hold.
    t = await store.tick(eventId, T0 + 10 + 10 * MIN, r, 3);
    expect(t.expiredNow).toBe(1);
    expect(t.log.map((a) => a.userId)).toEqual([4]);
    expect(await store.isAdmitted(eventId, 2, T0 + 10 + 10 * MIN)).toBe(false);
    expect(await store.status(eventId, 2, T0 + 10 + 10 * MIN, r)).toMatchObject({ state: 'done', reason: 'expired' });
    expect(t.active).toBe(2);
  });

  it('When admitPerMinute is 60, then ticks over two minutes admit 120 (the bucket keeps fractions, not bursts)', async () => {
    const eventId = nextEvent++;
    const r = rules({ maxActive: null, admitPerMinute: 60 });
    for (let u = 1; u <= 500; u++) await store.join(eventId, u, T0 + 1, r, 0);
    let admitted = 0;
    // Irregular ticks, as several nodes' would be.
    for (let at = T0; at <= T0 + 2 * MIN; at += 370) admitted += (await store.tick(eventId, at, r, -1)).admittedNow;
    // One is admitted at the start (allowance 1), then 1 per second for 120 s.
    expect(admitted).toBeGreaterThanOrEqual(119);
    expect(admitted).toBeLessThanOrEqual(121);
  });

  it('When many ticks, joins and leaves race (two connections), then active never exceeds maxActive', async () => {
    const other = maker.name === 'memory' ? store : maker.make();
    const eventId = nextEvent++;
    const r = rules({ maxActive: 7 });
    await Promise.all(Array.from({ length: 200 }, (_, u) => (u % 2 ? store : other).join(eventId, u + 1, T0 + u, r, 0)));
    for (let round = 0; round < 10; round++) {
      const at = T0 + 1000 + round;
      const ticks = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? store : other).tick(eventId, at, r, 0)));
      for (const t of ticks) expect(t.active).toBeLessThanOrEqual(7);
      const admitted = ticks.flatMap((t) => t.log).filter((a) => a.until > at);
      const active = new Set(admitted.map((a) => a.userId));
      // Half of the active leave (as if they booked), and the next round refills exactly to the limit.
      await Promise.all([...active].slice(0, 3).map((u) => other.leave(eventId, u, 'booked')));
    }
    const final = await store.tick(eventId, T0 + 2000, r, -1);
    expect(final.active).toBe(7);
  });
});
