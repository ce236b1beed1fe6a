import { createAdapter } from '@socket.io/redis-adapter';
import { Redis, type Cluster } from 'ioredis';
import type { ReadinessProbe } from '../shared/readiness';
import type { Logger } from '../shared/logger';
import type { EventNamespace } from './types';

/** A Socket.IO adapter factory, as `io.adapter()` takes it. */
export type AdapterFactory = ReturnType<typeof createAdapter>;

/**
 * This node's Redis: the command client (rate limits, publishing), the subscriber, the Socket.IO adapter built
 * on them and a readiness probe. One Redis (`REDIS_URL`, classic pub/sub adapter) or a Redis Cluster
 * (`REDIS_CLUSTER_NODES`, sharded adapter); callers do not need to know which.
 */
export interface RedisConnections {
  mode: 'single' | 'cluster';
  /** Commands: rate-limit counters and adapter publishes. */
  redis: Redis | Cluster;
  /** The subscriber connection(s): tests count what a node receives by listening to it. */
  sub: Redis | Cluster;
  adapter: AdapterFactory;
  probe: ReadinessProbe;
  /**
   * Resolves once this node's subscription for broadcasts to `room` of namespace `nsp` is acknowledged by
   * Redis, so a snapshot read after it cannot miss a change published in between. Only the sharded adapter
   * subscribes per room (asynchronously, on the room's first local member); elsewhere it resolves at once.
   */
  roomSubscribed(nsp: EventNamespace, room: string): Promise<void>;
  /** Channels of our own, subscribed one by one: seat changes between nodes (realtime/seat-relay.ts), user access notices. */
  pubsub: ChannelPubSub;
  close(): Promise<void>;
}

/**
 * Pub/sub on channels of our own that a node subscribes to and leaves one by one (seat relays, access notices): classic
 * PUBLISH/SUBSCRIBE on one Redis, sharded SPUBLISH/SSUBSCRIBE on a cluster, where each channel lives on its
 * slot's shard and only the nodes subscribed to it receive it.
 */
export interface ChannelPubSub {
  publish(channel: string, message: string): Promise<unknown>;
  /** Settles when Redis has answered the SUBSCRIBE: from then on, every message published reaches this node. */
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  onMessage(listener: (channel: string, message: string) => void): void;
}

/** What a node wants to hear from its Redis connections (metrics). */
export interface RedisHooks {
  /** A Redis Cluster room subscription failed (a failover) and is sent again. */
  onSubscriptionRetry?: () => void;
}

/** Keep retrying forever with a capped delay: a Redis restart or failover must not take the node down. */
export const redisRetryDelay = (times: number): number => Math.min(times * 200, 2000);

/** Logs "redis unavailable" at most every 5 s per node, however many connections report it. */
export function throttledRedisErrorLog(logger: Logger): (err: Error) => void {
  let lastLogged = 0;
  return (err) => {
    const now = Date.now();
    if (now - lastLogged > 5000) logger.warn({ err: err.message }, 'redis unavailable; retrying');
    lastLogged = now;
  };
}

/** One Redis: connections for the classic pub/sub adapter (one to publish, one to subscribe) and a readiness probe. */
export function createRedisAdapter(url: string, keyPrefix: string, logger: Logger): RedisConnections {
  const options = {
    retryStrategy: redisRetryDelay,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    lazyConnect: false,
  };
  // Auto-pipelining: the commands issued in one turn of the event loop (every socket command's rate-limit counters,
  // the adapter's publishes) go out in one write. In a rush a node issues thousands a second, each its own write
  // syscall without it. Subscribers send next to nothing: not theirs.
  const pub = new Redis(url, { ...options, enableAutoPipelining: true });
  const sub = pub.duplicate({ enableAutoPipelining: false });
  // Our own channels have a subscriber of their own: the adapter's stays the adapter's alone.
  const channelSub = pub.duplicate({ enableAutoPipelining: false });
  // The adapter adds listeners per event namespace on these two clients (and removes them when the namespace
  // goes): more than ten watched events on a node is normal, not a leak.
  pub.setMaxListeners(0);
  sub.setMaxListeners(0);
  const onError = throttledRedisErrorLog(logger);
  for (const client of [pub, sub, channelSub]) client.on('error', onError);
  return {
    mode: 'single',
    redis: pub,
    sub,
    adapter: createAdapter(pub, sub, { key: keyPrefix }),
    probe: {
      name: 'redis',
      check: async () => {
        if (pub.status !== 'ready') throw new Error(`redis ${pub.status}`);
        await pub.ping();
      },
    },
    // The classic adapter subscribes to the whole namespace when it is created: nothing per room to wait for.
    roomSubscribed: async () => undefined,
    pubsub: {
      publish: (channel, message) => pub.publish(channel, message),
      subscribe: (channel) => channelSub.subscribe(channel),
      unsubscribe: (channel) => channelSub.unsubscribe(channel),
      onMessage: (listener) => void channelSub.on('message', listener),
    },
    close: async () => {
      pub.disconnect();
      sub.disconnect();
      channelSub.disconnect();
    },
  };
}

/** One Redis pub/sub channel of plain-string messages (on the node's ChannelPubSub). */
export interface RedisChannel {
  publish(message: string): Promise<void>;
  /** Called for every message, this node's own included. */
  subscribe(listener: (message: string) => void): void;
  /** Settles once subscribed (or failed to): a node waits for it briefly so it does not miss early notices. */
  ready: Promise<void>;
  /** Leaves the channel (the connection itself closes with the node's RedisConnections). */
  close(): Promise<void>;
}

/**
 * A channel for node-to-node notices that are not Socket.IO broadcasts (user access changes), on the same
 * pub/sub as the seat relay: no subscriber connection of its own, and on a cluster a sharded channel kept through
 * a failover. Publishing when Redis is down fails and is logged: the receivers' caches expire on their own
 * (AUTH_CACHE_SECONDS).
 */
export function createRedisChannel(pubsub: ChannelPubSub, channel: string, logger: Logger): RedisChannel {
  const listeners: ((message: string) => void)[] = [];
  const ready = pubsub.subscribe(channel).then(
    () => undefined,
    (err) => logger.warn({ err: (err as Error).message, channel }, 'redis subscribe failed'),
  );
  pubsub.onMessage((ch, message) => {
    if (ch !== channel) return;
    for (const l of listeners) l(message);
  });
  return {
    publish: async (message) => {
      try {
        await pubsub.publish(channel, message);
      } catch (err) {
        logger.error({ err: (err as Error).message, channel }, 'redis publish failed; other nodes rely on their cache expiry');
      }
    },
    subscribe: (l) => void listeners.push(l),
    ready,
    // Not awaited: with Redis down the UNSUBSCRIBE would wait in the offline queue, and the node closes next anyway.
    close: async () => void pubsub.unsubscribe(channel).catch(() => undefined),
  };
}
