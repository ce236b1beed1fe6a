import type { SeatsChanged } from '../../server/contracts';
import type { ChannelPubSub } from '../../server/realtime/redis';
import { createSeatRelay } from '../../server/realtime/seat-relay';
import { createLogger } from '../../server/shared/logger';

/** Redis pub/sub in memory: a message reaches every connection subscribed to its channel, the sender's too. */
function bus() {
  const connections: { channels: Set<string>; listeners: ((channel: string, message: string) => void)[] }[] = [];
  const connect = (): ChannelPubSub => {
    const c = { channels: new Set<string>(), listeners: [] as ((channel: string, message: string) => void)[] };
    connections.push(c);
    return {
      publish: async (channel, message) => {
        for (const other of connections) if (other.channels.has(channel)) other.listeners.forEach((l) => l(channel, message));
      },
      subscribe: async (channel) => c.channels.add(channel),
      unsubscribe: async (channel) => c.channels.delete(channel),
      onMessage: (l) => void c.listeners.push(l),
    };
  };
  return { connect, send: (channel: string, message: string) => connect().publish(channel, message) };
}

const batch = (eventId: number, cursor: number): SeatsChanged => ({ eventId, cursor, seats: [{ id: 1, status: 'held', version: cursor }] });

describe('seat relay between nodes', () => {
  const logger = createLogger('silent');
  afterEach(() => jest.useRealTimers());

  it('When a node publishes, then the other nodes watching the event get the batch, and the publisher does not get it back', async () => {
    const b = bus();
    const [one, two, three] = [createSeatRelay(b.connect(), 'p', logger), createSeatRelay(b.connect(), 'p', logger), createSeatRelay(b.connect(), 'p', logger)];
    const got = { one: [] as SeatsChanged[], two: [] as SeatsChanged[], three: [] as SeatsChanged[] };
    one.onBatch((x) => got.one.push(x));
    two.onBatch((x) => got.two.push(x));
    three.onBatch((x) => got.three.push(x));
    one.watch(7);
    two.watch(7);
    three.watch(8);
    await Promise.all([one.watching(7), two.watching(7), three.watching(8)]);

    one.publish(batch(7, 10));
    await Promise.resolve();
    expect(got).toEqual({ one: [], two: [batch(7, 10)], three: [] });

    two.unwatch(7);
    one.publish(batch(7, 11));
    await Promise.resolve();
    expect(got.two).toEqual([batch(7, 10)]);
  });

  it('When junk arrives on a relay channel, then nothing is handed over and the warning is logged at most every 5 s', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const b = bus();
    const warn = jest.fn();
    const relay = createSeatRelay(b.connect(), 'p', { ...logger, warn } as unknown as typeof logger);
    const got: SeatsChanged[] = [];
    relay.onBatch((x) => got.push(x));
    relay.watch(7);
    await relay.watching(7);
    const channel = 'p:relay#/events/7#';
    await b.send(channel, 'not json');
    await b.send(channel, JSON.stringify({ node: 'x', eventId: 7, cursor: 1, seats: [{ id: 1, status: 'sold', version: 2 }] }));
    await b.send(channel, JSON.stringify({ node: 'x', eventId: 8, cursor: 1, seats: [{ id: 1, status: 'held', version: 2 }] }));
    expect(got).toEqual([]);
    expect(warn).toHaveBeenCalledTimes(1);
    jest.setSystemTime(1_000_000 + 5001);
    await b.send(channel, 'still not json');
    expect(warn).toHaveBeenCalledTimes(2);
    // A good batch from another node still goes through, without its staff fields.
    await b.send(channel, JSON.stringify({ node: 'x', eventId: 7, cursor: 3, seats: [{ id: 1, status: 'held', version: 3, holdToken: 't' }] }));
    expect(got).toEqual([batch(7, 3)]);
  });
});
