import { Broadcaster } from '../../server/realtime/broadcaster';
import type { SeatState, SeatsChanged } from '../../server/contracts';
import type { SeatRelay } from '../../server/realtime/seat-relay';
import { createLogger } from '../../server/shared/logger';
import { decodeChanges, layoutOrder } from '../../server/realtime/compact';
import { COMPACT_ROOM, STAFF_ROOM, WATCHERS_ROOM, type EventNamespace } from '../../server/realtime/types';

type Sent = {
  target: 'all' | 'except-staff' | 'except-compact' | 'except-staff-compact' | 'staff' | 'compact';
  event: string;
  payload: { cursor: number; seats: SeatState[] };
  /** Sent to this node's sockets only (`nsp.local`), not through the adapter to every node's. */
  local: boolean;
};

/**
 * Just enough of a namespace: records where each emit went, and whether only to this node's sockets; the staff
 * room's members are `staff`.
 */
function fakeNamespace(staff: string[], compact: string[] = []) {
  const sent: Sent[] = [];
  const rooms = new Map<string, Set<string>>();
  if (staff.length) rooms.set(STAFF_ROOM, new Set(staff));
  if (compact.length) rooms.set(COMPACT_ROOM, new Set(compact));
  const except = (local: boolean) => (r: string | string[]) => {
    const key = [r].flat().sort().join('+');
    if (key === STAFF_ROOM) return emitter('except-staff', local);
    if (key === COMPACT_ROOM) return emitter('except-compact', local);
    if (key === [COMPACT_ROOM, STAFF_ROOM].sort().join('+')) return emitter('except-staff-compact', local);
    return assert.fail(key);
  };
  const emitter = (target: Sent['target'], local: boolean) => ({
    emit: (event: string, payload: Sent['payload']) => {
      // Copy: what a socket would have received at that instant (binary fields kept as they are).
      sent.push({ target, event, payload: event.endsWith(':compact') ? payload : JSON.parse(JSON.stringify(payload)), local });
      return true;
    },
  });
  // Event-wide batches go to the watchers room (every socket), optionally minus the staff room.
  const to = (local: boolean) => (room: string) =>
    room === STAFF_ROOM
      ? emitter('staff', local)
      : room === COMPACT_ROOM
        ? emitter('compact', local)
        : room === WATCHERS_ROOM
          ? { ...emitter('all', local), except: except(local) }
          : assert.fail(room);
  const nsp = {
    adapter: { rooms },
    emit: emitter('all', false).emit,
    to: to(false),
    local: { to: to(true) },
  };
  return { nsp: nsp as unknown as EventNamespace, sent, rooms };
}

/** A relay between nodes that records what this node publishes; `deliver` plays another node's batch. */
function fakeRelay() {
  const published: SeatsChanged[] = [];
  const listeners: ((batch: SeatsChanged) => void)[] = [];
  const relay: SeatRelay = {
    publish: (batch) => void published.push(JSON.parse(JSON.stringify(batch))),
    watch: () => undefined,
    unwatch: () => undefined,
    watching: async () => undefined,
    onBatch: (l) => void listeners.push(l),
  };
  return { relay, published, deliver: (batch: SeatsChanged) => listeners.forEach((l) => l(batch)) };
}
const assert = { fail: (room: string): never => { throw new Error(`unexpected room ${room}`); } };

const held = (id: number, version: number): SeatState => ({ id, status: 'held', version });
const flushed = () => new Promise((r) => setImmediate(r));

describe('Broadcaster staff view', () => {
  const logger = createLogger('silent');

  it('with no staff socket on a single node: one plain emit, no holder read, no staff filter', async () => {
    const { nsp, sent } = fakeNamespace([]);
    const b = new Broadcaster(1000, logger);
    b.attach(() => nsp);
    const view = jest.fn(async (_e: number, seats: SeatState[]) => seats);
    b.setStaffView(view);
    b.seatsChanged(7, [held(1, 2)], 10);
    b.flushAll();
    await flushed();
    expect(view).not.toHaveBeenCalled();
    expect(sent.map((s) => [s.target, s.local])).toEqual([['all', true]]);
  });

  it('with staff connected: buyers get the plain batch, staff the viewed one; buyers never see a holder', async () => {
    const { nsp, sent } = fakeNamespace(['s1']);
    const b = new Broadcaster(1000, logger);
    b.attach(() => nsp);
    b.setStaffView(async (_e, seats) => seats.map((s) => ({ ...s, holder: { userId: 5, name: 'Alice', email: 'a@x' }, holdToken: 'tok' })));
    b.seatsChanged(7, [held(1, 2)], 10);
    b.flushAll();
    await flushed();
    expect(sent.map((s) => s.target)).toEqual(['except-staff', 'staff']);
    expect(JSON.stringify(sent[0])).not.toMatch(/holder|holdToken|Alice/);
    expect(sent[1]!.payload.seats[0]).toMatchObject({ id: 1, version: 2, holder: { userId: 5 }, holdToken: 'tok' });
  });

  it('clustered: reads only for staff sockets of this node (every node sees every change and reads for its own staff)', async () => {
    const { nsp, sent } = fakeNamespace([]);
    const { relay, deliver } = fakeRelay();
    const b = new Broadcaster(1000, logger);
    b.attach(() => nsp, { relay });
    const view = jest.fn(async (_e: number, seats: SeatState[]) => seats);
    b.setStaffView(view);
    b.seatsChanged(7, [held(1, 2)], 10);
    deliver({ eventId: 7, cursor: 11, seats: [held(2, 2)] });
    b.flushAll();
    await flushed();
    expect(view).not.toHaveBeenCalled();
    expect(sent.map((s) => [s.target, s.local])).toEqual([['all', true]]);
  });

  it('keeps one holder read in flight per event: batches flushed meanwhile are merged, newest version per seat, sent in order', async () => {
    const { nsp, sent } = fakeNamespace(['s1']);
    const b = new Broadcaster(1000, logger);
    b.attach(() => nsp);
    const calls: { seats: SeatState[]; release: () => void }[] = [];
    b.setStaffView(
      (_e, seats) =>
        new Promise((resolve) => {
          calls.push({ seats, release: () => resolve(seats) });
        }),
    );
    b.seatsChanged(7, [held(1, 2)], 10);
    b.flushAll();
    b.seatsChanged(7, [held(1, 3), held(2, 2)], 11);
    b.flushAll();
    b.seatsChanged(7, [held(1, 4)], 12);
    b.flushAll();
    // Buyers got all three at once; only one read has started.
    expect(sent.map((s) => s.target)).toEqual(['except-staff', 'except-staff', 'except-staff']);
    expect(calls).toHaveLength(1);
    calls[0]!.release();
    await flushed();
    expect(calls).toHaveLength(2);
    expect(calls[1]!.seats.map((s) => [s.id, s.version]).sort()).toEqual([
      [1, 4],
      [2, 2],
    ]);
    calls[1]!.release();
    await flushed();
    const staff = sent.filter((s) => s.target === 'staff');
    expect(staff.map((s) => s.payload.cursor)).toEqual([10, 12]);
    expect(staff[1]!.payload.seats.find((s) => s.id === 1)!.version).toBe(4);
    expect(calls).toHaveLength(2);
  });

  it('a failed holder read still gives staff the plain batch', async () => {
    const { nsp, sent } = fakeNamespace(['s1']);
    const b = new Broadcaster(1000, logger);
    b.attach(() => nsp);
    b.setStaffView(async () => Promise.reject(new Error('db down')));
    b.seatsChanged(7, [held(1, 2)], 10);
    b.flushAll();
    await flushed();
    expect(sent.map((s) => [s.target, s.payload.seats[0]!.version])).toEqual([
      ['except-staff', 2],
      ['staff', 2],
    ]);
  });

  it('close() (shutdown, before Redis closes) sends what is batched, waits for the staff reads in flight and their merged follow-up, then emits nothing more', async () => {
    const { nsp, sent } = fakeNamespace(['s1']);
    const b = new Broadcaster(1000, logger);
    b.attach(() => nsp);
    const calls: { seats: SeatState[]; release: () => void }[] = [];
    b.setStaffView((_e, seats) => new Promise((resolve) => calls.push({ seats, release: () => resolve(seats) })));
    b.seatsChanged(7, [held(1, 2)], 10);
    b.flushAll();
    // Batched, not flushed yet: close() sends it, and its staff half waits for the read in flight.
    b.seatsChanged(7, [held(2, 2)], 11);
    let closed = false;
    const closing = b.close().then(() => (closed = true));
    await flushed();
    expect(sent.map((s) => s.target)).toEqual(['except-staff', 'except-staff']);
    calls[0]!.release();
    await flushed();
    expect(closed).toBe(false);
    calls[1]!.release();
    await closing;
    expect(sent.filter((s) => s.target === 'staff').map((s) => s.payload.cursor)).toEqual([10, 11]);
    // After close nothing reaches the namespace: with the Redis adapter it would publish on a closed connection.
    b.seatsChanged(7, [held(3, 2)], 12);
    b.flushAll();
    b.holdExpired(1, { eventId: 7 } as Parameters<Broadcaster['holdExpired']>[1]);
    await flushed();
    expect(sent).toHaveLength(4);
  });
});

describe('Broadcaster across nodes', () => {
  const logger = createLogger('silent');

  it('clustered: relays each commit to the other nodes at once, and sends its own and relayed changes to its own sockets as one batch per window', async () => {
    const { nsp, sent } = fakeNamespace(['s1'], []);
    const { relay, published, deliver } = fakeRelay();
    const b = new Broadcaster(1000, logger);
    b.attach(() => nsp, { relay });
    b.setStaffView(async (_e, seats) => seats.map((s) => ({ ...s, holdToken: 'tok' })));
    b.seatsChanged(7, [held(1, 2)], 10);
    // Relayed at commit, before any window closes: the other nodes merge it into their own windows.
    expect(published).toEqual([{ eventId: 7, cursor: 10, seats: [held(1, 2)] }]);
    deliver({ eventId: 7, cursor: 12, seats: [held(2, 3), held(1, 1)] });
    b.seatsChanged(7, [held(3, 2)], 11);
    expect(published).toHaveLength(2);
    b.flushAll();
    await flushed();
    // One batch for the buyers and one for staff, each to this node's sockets only, highest version per seat.
    expect(sent.map((s) => [s.target, s.local])).toEqual([
      ['except-staff', true],
      ['staff', true],
    ]);
    expect(sent[0]!.payload.cursor).toBe(12);
    expect(sent[0]!.payload.seats.map((s) => [s.id, s.version]).sort()).toEqual([
      [1, 2],
      [2, 3],
      [3, 2],
    ]);
    expect(sent[1]!.payload.seats.every((s) => s.holdToken === 'tok')).toBe(true);
  });

  it('after close() neither relays nor sends relayed changes', async () => {
    const { nsp, sent } = fakeNamespace([]);
    const { relay, published, deliver } = fakeRelay();
    const b = new Broadcaster(1000, logger);
    b.attach(() => nsp, { relay });
    await b.close();
    b.seatsChanged(7, [held(1, 2)], 10);
    deliver({ eventId: 7, cursor: 11, seats: [held(2, 2)] });
    b.flushAll();
    expect(published).toEqual([]);
    expect(sent).toEqual([]);
  });
});

describe('Broadcaster compact form', () => {
  const logger = createLogger('silent');
  const order = layoutOrder('v1', [1, 2, 3]);

  it('with a compact socket: JSON to the watchers except the compact room, one compact emit that decodes to the same batch', async () => {
    const { nsp, sent } = fakeNamespace([], ['c1']);
    const b = new Broadcaster(1000, logger);
    b.attach(() => nsp);
    const layoutOf = jest.fn(async () => ({ order }));
    b.setCompactLayouts(layoutOf);
    b.seatsChanged(7, [held(3, 2), held(1, 4)], 10);
    b.flushAll();
    await flushed();
    expect(sent.map((s) => [s.target, s.event])).toEqual([
      ['except-compact', 'seats:changed'],
      ['compact', 'seats:changed:compact'],
    ]);
    const decoded = decodeChanges(sent[1]!.payload as never, order);
    expect(decoded).toEqual({ eventId: 7, cursor: 10, seats: [held(1, 4), held(3, 2)] });
  });

  it('with no compact socket on a single node: no encoding, no room filter; with staff too, both rooms are left out of the JSON emit', async () => {
    const plain = fakeNamespace([]);
    const b = new Broadcaster(1000, logger);
    b.attach(() => plain.nsp);
    const layoutOf = jest.fn(async () => ({ order }));
    b.setCompactLayouts(layoutOf);
    b.seatsChanged(7, [held(1, 2)], 10);
    b.flushAll();
    await flushed();
    expect(layoutOf).not.toHaveBeenCalled();
    expect(plain.sent.map((s) => s.target)).toEqual(['all']);

    const both = fakeNamespace(['s1'], ['c1']);
    b.attach(() => both.nsp);
    b.setStaffView(async (_e, seats) => seats);
    b.seatsChanged(7, [held(1, 3)], 11);
    b.flushAll();
    await flushed();
    expect(both.sent.map((s) => s.target).sort()).toEqual(['compact', 'except-staff-compact', 'staff']);
  });
});
