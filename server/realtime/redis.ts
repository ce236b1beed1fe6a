import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import type { ReadinessProbe } from '../health/routes';
import type { Logger } from '../shared/logger';

/** Redis connections for the Socket.IO adapter (one to publish, one to subscribe) and a readiness probe. */
export function createRedisAdapter(url: string, keyPrefix: string, logger: Logger): { redis: Redis; adapter: ReturnType<typeof createAdapter>; probe: ReadinessProbe; close(): Promise<void> } {
  const options = {
    // Keep retrying forever with a capped delay: a Redis restart must not take the node down.
    retryStrategy: (times: number) => Math.min(times * 200, 2000),
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    lazyConnect: false,
  };
  const pub = new Redis(url, options);
  const sub = pub.duplicate();
  let lastLogged = 0;
  for (const client of [pub, sub]) {
    client.on('error', (err) => {
      const now = Date.now();
      if (now - lastLogged > 5000) logger.warn({ err: err.message }, 'redis unavailable; retrying');
      lastLogged = now;
    });
  }
  return {
    redis: pub,
    adapter: createAdapter(pub, sub, { key: keyPrefix }),
    probe: {
      name: 'redis',
      check: async () => {
        if (pub.status !== 'ready') throw new Error(`redis ${pub.status}`);
        await pub.ping();
      },
    },
    close: async () => {
      pub.disconnect();
      sub.disconnect();
    },
  };
}
