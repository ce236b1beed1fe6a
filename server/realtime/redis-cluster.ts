import { createShardedAdapter } from '@socket.io/redis-adapter';
import { Cluster, type ClusterOptions } from 'ioredis';
import type { RedisNode } from '../config';
import type { Logger } from '../shared/logger';
import { withTimeout } from '../shared/with-timeout';
import type { EventNamespace } from './types';
import { redisRetryDelay, throttledRedisErrorLog, type AdapterFactory, type RedisConnections, type RedisHooks } from './redis';
import { keepShardedSubscriptions } from './sharded-subscriptions';

/** How long a new watcher waits for its room subscription before its snapshot is read anyway. */
const SUBSCRIBE_WAIT_MS = 2000;

/**
 * A Redis Cluster: ioredis `Cluster` clients and Socket.IO's sharded adapter (Redis 7 SPUBLISH/SSUBSCRIBE) in
 * dynamic subscription mode. Every broadcast to a single public room travels on that room's own channel
 * (`<prefix>#/events/<id>#<room>#`), which hashes to one shard, and a node subscribes to it only while one of
 * its sockets is in the room: a node with no watcher of an event receives none of its broadcasts, and the
 * events of a big on-sale spread over the masters instead of every node and every shard seeing everything.
 *
 * Rate-limit counters are single keys (`<prefix>:rl:<limit>:<client>`; a MULTI touches one key only), so no
 * command spans slots and no hash tag is needed; a future multi-key use must put a `{tag}` in its keys.
 */
export function createRedisClusterConnections(nodes: RedisNode[], keyPrefix: string, logger: Logger, hooks: RedisHooks = {}): RedisConnections {
  const base: ClusterOptions = {
    clusterRetryStrategy: redisRetryDelay,
    // A master that comes back after a restart without slot changes is reconnected; otherwise MOVED refreshes.
    clusterNodeRetryStrategy: redisRetryDelay,
    enableOfflineQueue: true,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 200,
    slotsRefreshTimeout: 2000,
    // Fail over faster than the default 5 s topology poll: a promoted replica is found within a second.
    slotsRefreshInterval: 1000,
  };
  // Commands time out instead of waiting out a failover: a rate-limit call falls back to the per-node
  // insurance limiter and a lost publish is caught up by clients from their cursor (delivery is at most once).
  // Auto-pipelined as on one Redis (redis.ts): ioredis keeps one pipeline per master, so a turn's rate-limit
  // counters and publishes go out in one write per master instead of one each. In a slot move or failover a whole
  // pipeline can fail where single commands would have been redirected (ioredis #2075): the same two fallbacks
  // as a timeout cover it.
  const pub = new Cluster(nodes, { ...base, enableAutoPipelining: true, redisOptions: { connectTimeout: 2000, commandTimeout: 2000, maxRetriesPerRequest: 2 } });
  // One subscriber connection per master, each holding the SSUBSCRIBEs of the slots it serves; ioredis
  // moves them to the new master after a failover.
  const sub = new Cluster(nodes, { ...base, shardedSubscribers: true, redisOptions: { connectTimeout: 2000 } });
  // The adapter drops the promises of its SSUBSCRIBEs: one that fails in a failover is retried here.
  keepShardedSubscriptions(sub, logger, hooks.onSubscriptionRetry);
  const onError = throttledRedisErrorLog(logger);
  for (const client of [pub, sub]) client.on('error', onError);

  const acknowledged = new Map<string, Promise<void>>();
  const watched = new WeakSet<object>();
  const roomSubscribed = (nsp: EventNamespace, room: string): Promise<void> => {
    const channel = `${keyPrefix}#${nsp.name}#${room}#`;
    let done = acknowledged.get(channel);
    if (!done) {
      if (!watched.has(nsp.adapter)) {
        watched.add(nsp.adapter);
        // The adapter unsubscribes when the room's last local socket leaves: the next member must wait again.
        nsp.adapter.on('delete-room', (r: string) => acknowledged.delete(`${keyPrefix}#${nsp.name}#${r}#`));
      }
      // The adapter has already sent SSUBSCRIBE for this channel; a second one on the same connection is
      // answered after it, so its reply proves the first was applied. Duplicates are harmless in Redis.
      const ack = sub.ssubscribe(channel).then(() => undefined);
      done = withTimeout(ack, SUBSCRIBE_WAIT_MS).catch((err: unknown) => {
        acknowledged.delete(channel);
        logger.warn({ err, channel }, 'room subscription not acknowledged; reading the snapshot anyway');
      });
      acknowledged.set(channel, done);
    }
    return done;
  };

  return {
    mode: 'cluster',
    redis: pub,
    sub,
    adapter: createShardedAdapter(pub, sub, { channelPrefix: keyPrefix, subscriptionMode: 'dynamic' }) as unknown as AdapterFactory,
    probe: {
      name: 'redis',
      check: async () => {
        if (pub.status !== 'ready' || sub.status !== 'ready') throw new Error(`redis cluster ${pub.status}/${sub.status}`);
        const info = await pub.cluster('INFO');
        const state = /cluster_state:(\w+)/.exec(String(info))?.[1];
        if (state !== 'ok') throw new Error(`redis cluster state ${state ?? 'unknown'}`);
        // Every master this node would send to must answer: a dead master not yet failed over is not ready.
        await Promise.all(pub.nodes('master').map((n) => n.ping()));
      },
    },
    roomSubscribed,
    // Sharded, on the adapter's subscriber: its channels are kept through a failover like the adapter's (above).
    pubsub: {
      publish: (channel, message) => pub.spublish(channel, message),
      subscribe: (channel) => sub.ssubscribe(channel),
      unsubscribe: (channel) => sub.sunsubscribe(channel),
      onMessage: (listener) => void sub.on('smessage', listener),
    },
    close: async () => {
      pub.disconnect();
      sub.disconnect();
    },
  };
}
