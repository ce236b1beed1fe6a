import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createRedisConnections } from '../../server/realtime/redis-connections';
import type { RedisConnections } from '../../server/realtime/redis';
import { createLogger } from '../../server/shared/logger';

/**
 * A node's command connection to one Redis sends the commands issued in one turn of the event loop together
 * (ioredis auto-pipelining): in a rush every socket command takes its rate-limit points there, and with one write
 * per command V8's profile charged the nodes' single-buffer writes 11% of their thread, 5% pipelined. That profile
 * samples wall time, so those shares include waits for a core; perf put the writes lower (load/README.md, issue 17).
 * Real Redis.
 */
describe('one Redis: the command connection pipelines a turn of the event loop', () => {
  let conns: RedisConnections;
  const prefix = `evently-test-pipe-${randomBytes(4).toString('hex')}`;
  beforeAll(() => {
    conns = createRedisConnections({ redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', redisClusterNodes: undefined, redisKeyPrefix: prefix }, createLogger('silent'))!;
  });
  afterAll(async () => {
    const redis = conns.redis as Redis;
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await conns.close();
  });

  it('When commands on many keys are issued in one turn, then they queue for one write and each gets its own answer', async () => {
    const redis = conns.redis as Redis;
    await redis.ping();
    const keys = Array.from({ length: 50 }, (_, i) => `${prefix}:k${i}`);
    const replies = keys.map((k, i) => redis.incrby(k, i + 1));
    // Still in the turn that issued them: all 50 wait in the pipeline, none has been written on its own.
    expect(redis.autoPipelineQueueSize).toBe(50);
    expect(await Promise.all(replies)).toEqual(keys.map((_, i) => i + 1));
    expect(redis.autoPipelineQueueSize).toBe(0);
  });

  it('When a message is published on the command connection, then a channel subscriber still receives it', async () => {
    const channel = `${prefix}:channel`;
    const got = new Promise<string>((resolve) => conns.pubsub.onMessage((c, m) => c === channel && resolve(m)));
    await conns.pubsub.subscribe(channel);
    await conns.pubsub.publish(channel, 'hello');
    expect(await got).toBe('hello');
  });
});
