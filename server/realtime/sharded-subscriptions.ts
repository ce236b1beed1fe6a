import type { Cluster } from 'ioredis';
import type { Logger } from '../shared/logger';
import { redisRetryDelay } from './redis';

type ChannelCommand = (...channels: string[]) => Promise<unknown>;

/**
 * Makes a Redis Cluster subscriber keep the sharded channels it was asked for through a failover.
 *
 * Socket.IO's sharded adapter (@socket.io/redis-adapter 8.3, `dist/util.js`) sends SSUBSCRIBE when a room is
 * created on this node and SUNSUBSCRIBE when it empties, and drops both promises. During a failover ioredis can
 * give up on one ("Too many Cluster redirections"). The rejection was then nobody's (an unhandled rejection), and
 * the room's channel stayed unsubscribed on this node: its sockets missed every other node's broadcast to that
 * room until the room emptied. Now a failed SSUBSCRIBE is logged and sent again, with the reconnect backoff, for
 * as long as the channel is wanted (subscribed and not unsubscribed since); a failed SUNSUBSCRIBE is logged (the
 * node keeps receiving that channel, for a room it has no socket in, which the adapter ignores). A caller that
 * awaits either still sees its rejection.
 */
export function keepShardedSubscriptions(sub: Cluster, logger: Logger, onRetry?: () => void): void {
  const wanted = new Set<string>();
  const ssubscribe = (sub.ssubscribe as unknown as ChannelCommand).bind(sub);
  const sunsubscribe = (sub.sunsubscribe as unknown as ChannelCommand).bind(sub);

  const subscribe = (channels: string[], attempt: number): Promise<unknown> => {
    const reply = ssubscribe(...channels);
    reply.catch((err: unknown) => {
      const again = channels.filter((c) => wanted.has(c));
      if (again.length === 0 || sub.status === 'end') return;
      // Logged on the first failure and every tenth after it: a long outage retries every 2 s per channel.
      if (attempt % 10 === 1) logger.warn({ err, channels: again, attempt }, 'sharded subscription failed; subscribing again');
      onRetry?.();
      setTimeout(() => {
        const still = again.filter((c) => wanted.has(c));
        if (still.length && sub.status !== 'end') void subscribe(still, attempt + 1);
      }, redisRetryDelay(attempt)).unref();
    });
    return reply;
  };

  (sub as unknown as { ssubscribe: ChannelCommand }).ssubscribe = (...channels) => {
    for (const c of channels) wanted.add(c);
    return subscribe(channels, 1);
  };
  (sub as unknown as { sunsubscribe: ChannelCommand }).sunsubscribe = (...channels) => {
    for (const c of channels) wanted.delete(c);
    const reply = sunsubscribe(...channels);
    reply.catch((err: unknown) => logger.warn({ err, channels }, 'sharded unsubscribe failed; the node keeps receiving these channels'));
    return reply;
  };
}
