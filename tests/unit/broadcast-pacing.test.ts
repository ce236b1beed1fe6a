import { Broadcaster } from '../../server/realtime/broadcaster';
import { BUSY_SPACING } from '../../server/realtime/broadcast-pacing';
import type { SeatState } from '../../server/contracts';
import { createLogger } from '../../server/shared/logger';
import type { EventNamespace } from '../../server/realtime/types';

const held = (id: number, version: number): SeatState => ({ id, status: 'held', version });

describe('Broadcaster pacing on a busy node', () => {
  const logger = createLogger('silent');
  const batchMs = 20;
  const maxMs = 200;
  afterEach(() => jest.useRealTimers());

  /** A namespace whose every emit takes `cost.ms` of the (fake) clock, as writing to many sockets does. */
  function costlyNamespace(cost: { ms: number }) {
    const sentAt: number[] = [];
    const emit = () => {
      sentAt.push(Date.now());
      jest.setSystemTime(Date.now() + cost.ms);
      return true;
    };
    const nsp = { adapter: { rooms: new Map() }, local: { to: () => ({ emit, except: () => ({ emit }) }) } };
    return { nsp: nsp as unknown as EventNamespace, sentAt };
  }

  /** How long after it is made a change is emitted: the window it opened. */
  function windowOf(b: Broadcaster, sentAt: number[], seat: number): number {
    const before = sentAt.length;
    const start = Date.now();
    b.seatsChanged(7, [held(seat, 2)], seat);
    for (let waited = 0; sentAt.length === before; waited++) {
      if (waited > 10 * maxMs) throw new Error('never emitted');
      jest.advanceTimersByTime(1);
    }
    return sentAt[before]! - start;
  }

  function start(utilization: number, pacingMaxMs = maxMs) {
    jest.useFakeTimers({ now: 1_000_000 });
    const cost = { ms: 0 };
    const { nsp, sentAt } = costlyNamespace(cost);
    const load = { utilization };
    const onFlush = jest.fn();
    const b = new Broadcaster(batchMs, logger, onFlush, { maxMs: pacingMaxMs, clock: () => Date.now(), utilization: () => load.utilization });
    b.attach(() => nsp);
    return { b, sentAt, cost, load, onFlush };
  }

  it('When the node is busy, then the window after a flush is BUSY_SPACING times what its emit cost, up to the cap', () => {
    const { b, sentAt, cost, onFlush } = start(0.9);
    cost.ms = 10;
    expect(windowOf(b, sentAt, 1)).toBe(batchMs); // nothing flushed before: the short window
    expect(BUSY_SPACING * 10).toBeLessThan(maxMs); // so the first spacing is not capped
    expect(windowOf(b, sentAt, 2)).toBe(BUSY_SPACING * 10); // after the last emit ended
    cost.ms = 50;
    windowOf(b, sentAt, 3);
    expect(windowOf(b, sentAt, 4)).toBe(maxMs); // BUSY_SPACING x 50 ms, capped
    expect(onFlush.mock.calls.map(([, , windowMs]) => windowMs)).toEqual([batchMs, BUSY_SPACING * 10, BUSY_SPACING * 10, maxMs]); // for /metrics
  });

  it('When the node is busy but the spacing has passed, then a change leaves after the short window', () => {
    const { b, sentAt, cost } = start(0.9);
    cost.ms = 10;
    windowOf(b, sentAt, 1);
    jest.advanceTimersByTime(BUSY_SPACING * 10);
    expect(windowOf(b, sentAt, 2)).toBe(batchMs);
  });

  it('When the node is not busy, then every window is the short one, however costly the emits', () => {
    const { b, sentAt, cost, load } = start(0.3);
    cost.ms = 50;
    expect([1, 2, 3].map((seat) => windowOf(b, sentAt, seat))).toEqual([batchMs, batchMs, batchMs]);
    load.utilization = 0.9;
    windowOf(b, sentAt, 4);
    expect(windowOf(b, sentAt, 5)).toBe(maxMs);
  });

  it('When the widest window is no wider than the short one, then pacing is off', () => {
    const { b, sentAt, cost } = start(0.9, batchMs);
    cost.ms = 50;
    expect([1, 2, 3].map((seat) => windowOf(b, sentAt, seat))).toEqual([batchMs, batchMs, batchMs]);
  });
});
