import type { Config } from '../config';
import type { Logger } from '../shared/logger';
import { createRedisAdapter, type RedisConnections, type RedisHooks } from './redis';
import { createRedisClusterConnections } from './redis-cluster';

/**
 * Connects to whichever Redis the configuration names: a Redis Cluster (REDIS_CLUSTER_NODES, sharded adapter),
 * one Redis (REDIS_URL, classic adapter), or none (undefined: a single node with the in-memory adapter).
 */
export function createRedisConnections(config: Pick<Config, 'redisUrl' | 'redisClusterNodes' | 'redisKeyPrefix'>, logger: Logger, hooks: RedisHooks = {}): RedisConnections | undefined {
  if (config.redisClusterNodes) return createRedisClusterConnections(config.redisClusterNodes, config.redisKeyPrefix, logger, hooks);
  if (config.redisUrl) return createRedisAdapter(config.redisUrl, config.redisKeyPrefix, logger);
  return undefined;
}
