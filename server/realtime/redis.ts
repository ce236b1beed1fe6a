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
  // The adapter adds listeners per event namespace on these two clients (and removes them when the namespace
  // goes): more than ten watched events on a node is normal, not a leak.
  pub.setMaxListeners(0);
  sub.setMaxListeners(0);
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

/** One Redis pub/sub channel of plain-string messages, on a subscriber connection of its own. */
export interface RedisChannel {
  publish(message: string): Promise<void>;
  /** Called for every message, this node's own included. */
  subscribe(listener: (message: string) => void): void;
  /** Settles once subscribed (or failed to): a node waits for it briefly so it does not miss early notices. */
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * A channel for node-to-node notices that are not Socket.IO broadcasts (user access changes). Publishing when
 * Redis is down fails and is logged: the receivers' caches expire on their own (AUTH_CACHE_SECONDS).
 */
export function createRedisChannel(redis: Redis, channel: string, logger: Logger): RedisChannel {
  const sub = redis.duplicate();
  sub.on('error', () => undefined); // the adapter's connections already log Redis being unavailable
  const listeners: ((message: string) => void)[] = [];
  const ready = sub.subscribe(channel).then(
    () => undefined,
    (err) => logger.warn({ err: (err as Error).message, channel }, 'redis subscribe failed'),
  );
  sub.on('message', (ch: string, message: string) => {
    if (ch !== channel) return;
    for (const l of listeners) l(message);
  });
  return {
    publish: async (message) => {
      try {
        await redis.publish(channel, message);
      } catch (err) {
        logger.error({ err: (err as Error).message, channel }, 'redis publish failed; other nodes rely on their cache expiry');
      }
    },
    subscribe: (l) => void listeners.push(l),
    ready,
    close: async () => {
      sub.disconnect();
    },
  };
}
