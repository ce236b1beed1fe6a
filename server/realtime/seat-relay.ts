import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { seatStateView, type SeatsChanged } from '../contracts';
import type { Logger } from '../shared/logger';
import { withTimeout } from '../shared/with-timeout';
import type { ChannelPubSub } from './redis';

/** How long a new watcher waits for the relay subscription before its snapshot is read anyway. */
export const RELAY_SUBSCRIBE_WAIT_MS = 2000;

/**
 * Carries each node's committed seat changes to the other nodes that have watchers of the event, so that every
 * node sends all of an event's changes, its own and the relayed ones, to its own sockets in one window
 * (Broadcaster). A buyer then gets one batch per window however many nodes committed in it. Before, each node's
 * batch went through the Socket.IO adapter to every socket of every node: one batch per node and window, twice
 * the writes per buyer with 2 nodes in a flash sale's rush (load/README.md, issue 17).
 *
 * One channel per event (`<prefix>:relay#/events/<id>#`), which a node subscribes to while its watchers room of
 * the event has a member: on a Redis Cluster (sharded pub/sub) a node with no watcher of an event receives none
 * of its changes, as with the adapter's room channels.
 */
export interface SeatRelay {
  /** Sends a committed batch to the other nodes (this node does not get it back). */
  publish(batch: SeatsChanged): void;
  /** Starts receiving the event's batches (its first watcher here); see `watching`. */
  watch(eventId: number): void;
  /** Stops receiving the event's batches (its last watcher here left). */
  unwatch(eventId: number): void;
  /**
   * Settles once Redis has acknowledged the event's subscription (or after RELAY_SUBSCRIBE_WAIT_MS, logged), so
   * a snapshot read after it cannot miss a change another node relays in between.
   */
  watching(eventId: number): Promise<void>;
  /** Called with each well-formed batch another node relayed, for an event this node watches. */
  onBatch(listener: (batch: SeatsChanged) => void): void;
}

// Checked on arrival: Redis carries it between our own nodes, but a node of another version, or anything else
// publishing on the channel, must not put a malformed seat into every buyer's map. Unknown keys are stripped, so
// nothing but the buyers' fields can reach a buyer this way.
const relayed = z.object({
  node: z.string(),
  eventId: z.number().int().positive(),
  cursor: z.number().int().nonnegative(),
  seats: z.array(seatStateView).min(1),
});

/** The relay over Redis pub/sub (`pubsub`: classic on one Redis, sharded on a cluster). */
export function createSeatRelay(pubsub: ChannelPubSub, keyPrefix: string, logger: Logger): SeatRelay {
  const node = randomBytes(8).toString('hex');
  const channelOf = (eventId: number) => `${keyPrefix}:relay#/events/${eventId}#`;
  /** Events watched here, each with its subscription's acknowledgement. */
  const watched = new Map<number, Promise<void>>();
  const listeners: ((batch: SeatsChanged) => void)[] = [];
  // Both failures below can come at the rate of commits (a Redis outage, something publishing junk on a channel):
  // each is logged at most every 5 s.
  const lastLogged = { failure: 0, malformed: 0 };
  const throttled = (kind: keyof typeof lastLogged): boolean => {
    if (Date.now() - lastLogged[kind] < 5000) return true;
    lastLogged[kind] = Date.now();
    return false;
  };

  pubsub.onMessage((channel, message) => {
    if (!channel.startsWith(`${keyPrefix}:relay#`)) return;
    let raw: unknown;
    try {
      raw = JSON.parse(message);
    } catch {
      // not JSON: dropped below
    }
    // Our own batch comes back to us whenever we watch the event too: skipped before it costs a validation.
    if ((raw as { node?: unknown } | undefined)?.node === node) return;
    const result = relayed.safeParse(raw);
    if (!result.success || channel !== channelOf(result.data.eventId)) {
      if (!throttled('malformed')) logger.warn({ channel }, 'dropped a malformed relayed seat batch');
      return;
    }
    const parsed = result.data;
    // A batch that arrives just after the event's last watcher here left has nobody to go to.
    if (!watched.has(parsed.eventId)) return;
    const batch = { eventId: parsed.eventId, cursor: parsed.cursor, seats: parsed.seats };
    for (const l of listeners) l(batch);
  });

  return {
    publish(batch) {
      pubsub.publish(channelOf(batch.eventId), JSON.stringify({ node, ...batch })).catch((err: unknown) => {
        // At most once, like every broadcast: the other nodes' clients catch up from their cursor.
        if (!throttled('failure')) logger.warn({ err, eventId: batch.eventId }, 'relaying seat changes to the other nodes failed');
      });
    },
    watch(eventId) {
      const channel = channelOf(eventId);
      const ack = withTimeout(pubsub.subscribe(channel), RELAY_SUBSCRIBE_WAIT_MS).then(
        () => undefined,
        (err: unknown) => logger.warn({ err, channel }, 'relay subscription not acknowledged; reading the snapshot anyway'),
      );
      watched.set(eventId, ack);
    },
    unwatch(eventId) {
      if (!watched.delete(eventId)) return;
      const channel = channelOf(eventId);
      pubsub.unsubscribe(channel).catch((err: unknown) => logger.warn({ err, channel }, 'relay unsubscribe failed; this node keeps receiving the channel'));
    },
    watching: (eventId) => watched.get(eventId) ?? Promise.resolve(),
    onBatch: (listener) => void listeners.push(listener),
  };
}
