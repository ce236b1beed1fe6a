import type { Logger } from '../shared/logger';
import type { GaChanged, WaitlistOffer } from '../contracts';
import type { Notifier } from './notifier';
import type { BookingCancelledNotice, EventStatusNotice, HoldExpiredNotice, SeatState, SeatsChanged } from '../contracts';
import { BroadcastPacer, type BroadcastPacing } from './broadcast-pacing';
import { encodeChanges, type LayoutOrder } from './compact';
import type { SeatRelay } from './seat-relay';
import { COMPACT_ROOM, STAFF_ROOM, userRoom, WATCHERS_ROOM, type EventNamespace } from './types';

interface Pending {
  seats: Map<number, SeatState>;
  cursor: number;
  timer: NodeJS.Timeout;
  /** The window this batch is merged over (ms). */
  windowMs: number;
}

/** Staff batches of one event waiting for (or in) the staff view; one read in flight per event. */
interface StaffQueue {
  nsp: EventNamespace;
  seats: Map<number, SeatState>;
  cursor: number;
  running: boolean;
}

type StaffView = (eventId: number, seats: SeatState[]) => Promise<SeatState[]>;
/** The seat order of an event's layout; the same Promise for every caller while cached (see PublishedLayouts). */
type LayoutOf = (eventId: number) => Promise<{ order: LayoutOrder }>;

/**
 * Whether a socket of this node is in `room` of the namespace: who receives a batch from here (a socket joins
 * its rooms synchronously on connection, before its snapshot is read, so a batch flushed before the join is in
 * that snapshot).
 */
function hasMembers(nsp: EventNamespace, room: string): boolean {
  return (nsp.adapter.rooms.get(room)?.size ?? 0) > 0;
}

/** Merges seat states into `into`, keeping the highest version per seat. */
function mergeSeats(into: Map<number, SeatState>, seats: Iterable<SeatState>): void {
  for (const s of seats) {
    const prev = into.get(s.id);
    if (!prev || prev.version < s.version) into.set(s.id, s);
  }
}

/**
 * Fans committed seat changes out to an event's sockets on this node. Changes are merged per seat (highest
 * version wins) over a short window so a burst of commits costs one emit, not hundreds. Per socket there is no
 * work beyond the write.
 *
 * With several nodes (a `relay`), each commit is also relayed at once to the other nodes watching the event
 * (realtime/seat-relay.ts), which merge it into their own windows; every emit is local. So a buyer gets one
 * batch per window whatever the number of nodes that committed in it, where an emit through the adapter reaches
 * every socket of every node, once per node and window: with 2 nodes in a flash sale's rush, twice the writes
 * per buyer (load/README.md, issue 17, "one batch per window across nodes").
 *
 * On a busy node the window widens with what its emits cost. An emit writes to every socket of the event on this
 * node (~13 µs each), so in a flash sale's rush socket writes took 40% of the nodes' thread (acks included), and
 * the holds and bookings that make the changes waited behind them. While the event loop is busy, the next flush
 * waits until 19 times the last one's emit time has passed (BroadcastPacer, at most `pacing.maxMs`); otherwise,
 * and after a quiet spell, a change leaves after `batchMs`. Measured in load/README.md (issue 17, "broadcasts
 * paced by their cost").
 */
export class Broadcaster implements Notifier {
  private readonly pending = new Map<number, Pending>();
  private readonly pacer: BroadcastPacer;
  private namespaceOf: ((eventId: number) => EventNamespace) | undefined;
  /** The event's namespace if this node has one, without creating it: seat batches are for this node's sockets. */
  private findNamespace: ((eventId: number) => EventNamespace | undefined) | undefined;
  private staffView: StaffView | undefined;
  private layoutOf: LayoutOf | undefined;
  /** Other nodes' changes come in, and this node's go out, through it (several nodes, Redis). */
  private relay: SeatRelay | undefined;
  private readonly staffQueues = new Map<number, StaffQueue>();
  /** Staff reads and compact encodings whose emit has not happened yet (see close()). */
  private readonly sending = new Set<Promise<unknown>>();
  /** Set by close(): from then on nothing is emitted, so nothing publishes on a closed Redis connection. */
  private closed = false;

  constructor(
    batchMs: number,
    private readonly logger: Logger,
    private readonly onFlush?: (eventId: number, size: number, windowMs: number) => void,
    pacing: BroadcastPacing = { maxMs: batchMs },
  ) {
    this.pacer = new BroadcastPacer(batchMs, pacing);
  }

  /**
   * Connects to Socket.IO (once); until then there is nobody to tell and changes are dropped. `namespaceOf`
   * creates the event's namespace if need be (notices go through it to every node); `find` (by default
   * `namespaceOf`) does not: an event without a namespace here has no socket here to send seat batches to, and
   * a socket that joins later reads a snapshot with the change in it. With a `relay` (several nodes), each commit
   * is relayed to the other nodes, and theirs are sent to this node's sockets with its own.
   */
  attach(namespaceOf: (eventId: number) => EventNamespace, opts: { relay?: SeatRelay; find?: (eventId: number) => EventNamespace | undefined } = {}): void {
    this.namespaceOf = namespaceOf;
    this.findNamespace = opts.find ?? namespaceOf;
    this.relay = opts.relay;
    // Another node's changes: the relay hands over only events with watchers here, so the namespace exists.
    this.relay?.onBatch((batch) => {
      if (!this.closed) this.merge(batch.eventId, batch.seats, batch.cursor);
    });
  }

  seatsChanged(eventId: number, seats: SeatState[], cursor: number): void {
    if (!this.namespaceOf || this.closed || seats.length === 0) return;
    this.relay?.publish({ eventId, cursor, seats });
    this.merge(eventId, seats, cursor);
  }

  private merge(eventId: number, seats: SeatState[], cursor: number): void {
    if (!this.findNamespace?.(eventId)) return;
    let p = this.pending.get(eventId);
    if (!p) {
      const windowMs = this.pacer.windowMs(eventId);
      p = { seats: new Map(), cursor: 0, timer: setTimeout(() => this.flush(eventId), windowMs), windowMs };
      this.pending.set(eventId, p);
    }
    mergeSeats(p.seats, seats);
    p.cursor = Math.max(p.cursor, cursor);
  }

  holdExpired(userId: number, notice: HoldExpiredNotice): void {
    this.live(notice.eventId)?.to(userRoom(userId)).emit('hold:expired', notice);
  }

  eventStatus(notice: EventStatusNotice): void {
    this.live(notice.eventId)?.to(WATCHERS_ROOM).emit('event:status', notice);
  }

  bookingCancelled(userId: number, notice: BookingCancelledNotice): void {
    this.live(notice.eventId)?.to(userRoom(userId)).emit('booking:cancelled', notice);
  }

  /**
   * Box office and admin sockets (room STAFF_ROOM) get each batch with `holder` filled in by `view`; every
   * other socket gets the plain batch, so a buyer never sees another person's identity. Without a view
   * everybody gets the plain batch.
   *
   * The view is a database read, so it is run only when a staff socket of this node is listening, at most one
   * at a time per event (batches flushed meanwhile are merged, highest version per seat, and read together
   * next), and the plain batch never waits for it. While this node's staff room is empty it skips the read and
   * the `except(staff)` filter (every node sees every change, so each reads for its own staff).
   */
  setStaffView(view: StaffView): void {
    this.staffView = view;
  }

  /**
   * Enables the compact form: each batch is also encoded once in layout order and sent to COMPACT_ROOM, and the
   * JSON batch then skips that room. Batches of one event stay in order: while the layout is cached every batch
   * waits on the same resolved Promise, whose callbacks run in the order they were added.
   */
  setCompactLayouts(layoutOf: LayoutOf): void {
    this.layoutOf = layoutOf;
  }

  waitlistOffer(userId: number, offer: WaitlistOffer): void {
    this.live(offer.eventId)?.to(userRoom(userId)).emit('waitlist:offer', offer);
  }

  gaChanged(batch: GaChanged): void {
    if (batch.areas.length) this.live(batch.eventId)?.to(WATCHERS_ROOM).emit('ga:changed', batch);
  }

  /** The event's namespace, or undefined once closed (or before attach): nobody to tell. */
  private live(eventId: number): EventNamespace | undefined {
    return this.closed ? undefined : this.namespaceOf?.(eventId);
  }

  /** Keeps `work` in `sending` until it settles, so close() can wait for it (its failures are its own to log). */
  private track(work: Promise<unknown>): void {
    const done = () => void this.sending.delete(work);
    this.sending.add(work);
    work.then(done, done);
  }

  private flush(eventId: number): void {
    const p = this.pending.get(eventId);
    if (!p) return;
    this.pending.delete(eventId);
    clearTimeout(p.timer);
    try {
      const batch = { eventId, cursor: p.cursor, seats: [...p.seats.values()] };
      const nsp = this.findNamespace?.(eventId);
      if (nsp) {
        const staff = !!this.staffView && hasMembers(nsp, STAFF_ROOM);
        const layoutOf = this.layoutOf;
        const compact = !!layoutOf && hasMembers(nsp, COMPACT_ROOM);
        const except = [...(staff ? [STAFF_ROOM] : []), ...(compact ? [COMPACT_ROOM] : [])];
        const watchers = nsp.local.to(WATCHERS_ROOM);
        // With nobody here in those rooms: one plain emit, no per-socket room filter, no database read.
        this.pacer.timed(eventId, () => (except.length ? watchers.except(except) : watchers).emit('seats:changed', batch));
        if (staff) this.queueStaff(eventId, nsp, batch.seats, batch.cursor);
        if (compact && layoutOf) this.sendCompact(nsp, batch, layoutOf);
      }
      this.onFlush?.(eventId, p.seats.size, p.windowMs);
    } catch (err) {
      // Delivery is at most once by design; clients resync from their cursor. Never throw into a timer.
      this.logger.error({ err, eventId }, 'broadcast failed');
    }
  }

  /** Encodes the batch once and sends it to this node's compact sockets. */
  private sendCompact(nsp: EventNamespace, batch: SeatsChanged, layoutOf: LayoutOf): void {
    this.track(
      layoutOf(batch.eventId)
        .then(({ order }) => this.pacer.timed(batch.eventId, () => nsp.local.to(COMPACT_ROOM).emit('seats:changed:compact', encodeChanges(batch, order))))
        .catch((err: unknown) => {
          // At most once, like every batch: compact clients resync from their cursor on reconnect.
          this.logger.error({ err, eventId: batch.eventId }, 'compact broadcast failed');
        }),
    );
  }

  private queueStaff(eventId: number, nsp: EventNamespace, seats: SeatState[], cursor: number): void {
    let q = this.staffQueues.get(eventId);
    if (!q) {
      q = { nsp, seats: new Map(), cursor: 0, running: false };
      this.staffQueues.set(eventId, q);
    }
    q.nsp = nsp;
    mergeSeats(q.seats, seats);
    q.cursor = Math.max(q.cursor, cursor);
    this.runStaff(eventId, q);
  }

  /** One staff-view read in flight per event; staff batches therefore also leave in commit order. */
  private runStaff(eventId: number, q: StaffQueue): void {
    const view = this.staffView;
    if (q.running || !view) return;
    if (q.seats.size === 0) {
      this.staffQueues.delete(eventId);
      return;
    }
    const batch = { eventId, cursor: q.cursor, seats: [...q.seats.values()] };
    q.seats = new Map();
    q.running = true;
    // Tracked until the emit and the next read's start (runStaff in finally tracks that one before this settles).
    this.track(
      view(eventId, batch.seats)
        .catch((err: unknown) => {
          this.logger.error({ err, eventId }, 'staff view failed; sending the plain batch');
          return batch.seats;
        })
        .then((seats) => {
          try {
            q.nsp.local.to(STAFF_ROOM).emit('seats:changed', { ...batch, seats });
          } catch (err) {
            this.logger.error({ err, eventId }, 'staff broadcast failed');
          }
        })
        .finally(() => {
          q.running = false;
          this.runStaff(eventId, q);
        }),
    );
  }

  /** Sends everything still batched (shutdown). */
  flushAll(): void {
    for (const eventId of [...this.pending.keys()]) this.flush(eventId);
  }

  /**
   * Last step before the node closes its Redis connections: sends everything still batched, waits for the staff
   * reads and compact encodings already started to emit, and from then on drops every change and notice (clients
   * resync from their cursor on another node). Why: with the Redis adapter every relay and every notice to a user
   * or an event's watchers is a PUBLISH the adapter does not wait for, so one sent after `disconnect()` rejects
   * with "Connection is closed." and nobody handles it: an unhandled rejection.
   */
  async close(): Promise<void> {
    this.flushAll();
    this.closed = true;
    while (this.sending.size > 0) await Promise.allSettled([...this.sending]);
  }
}
