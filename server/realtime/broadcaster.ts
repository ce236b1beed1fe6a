import type { Logger } from '../shared/logger';
import type { GaChanged, WaitlistOffer } from './protocol';
import type { Notifier } from './notifier';
import type { BookingCancelledNotice, EventStatusNotice, HoldExpiredNotice, SeatState } from './protocol';
import { STAFF_ROOM, userRoom, type EventNamespace } from './types';

interface Pending {
  seats: Map<number, SeatState>;
  cursor: number;
  timer: NodeJS.Timeout;
}

/**
 * Fans committed seat changes out to an event's namespace. Changes are merged per seat (highest version
 * wins) over a short window so a burst of commits costs one emit, not hundreds; with the Redis adapter that
 * one emit reaches the sockets of every node. Per socket there is no work beyond the write.
 */
export class Broadcaster implements Notifier {
  private readonly pending = new Map<number, Pending>();
  private namespaceOf: ((eventId: number) => EventNamespace) | undefined;
  private staffView: ((eventId: number, seats: SeatState[]) => Promise<SeatState[]>) | undefined;

  constructor(
    private readonly batchMs: number,
    private readonly logger: Logger,
    private readonly onFlush?: (eventId: number, size: number) => void,
  ) {}

  /** Connects to Socket.IO; until then there is nobody to tell and changes are dropped. */
  attach(namespaceOf: (eventId: number) => EventNamespace): void {
    this.namespaceOf = namespaceOf;
  }

  seatsChanged(eventId: number, seats: SeatState[], cursor: number): void {
    if (!this.namespaceOf || seats.length === 0) return;
    let p = this.pending.get(eventId);
    if (!p) {
      p = { seats: new Map(), cursor: 0, timer: setTimeout(() => this.flush(eventId), this.batchMs) };
      this.pending.set(eventId, p);
    }
    for (const s of seats) {
      const prev = p.seats.get(s.id);
      if (!prev || prev.version < s.version) p.seats.set(s.id, s);
    }
    p.cursor = Math.max(p.cursor, cursor);
  }

  holdExpired(userId: number, notice: HoldExpiredNotice): void {
    this.namespaceOf?.(notice.eventId).to(userRoom(userId)).emit('hold:expired', notice);
  }

  eventStatus(notice: EventStatusNotice): void {
    this.namespaceOf?.(notice.eventId).emit('event:status', notice);
  }

  bookingCancelled(userId: number, notice: BookingCancelledNotice): void {
    this.namespaceOf?.(notice.eventId).to(userRoom(userId)).emit('booking:cancelled', notice);
  }

  /**
   * Box office and admin sockets (room STAFF_ROOM) get each batch with `holder` filled in by `view`; every
   * other socket gets the plain batch, so a buyer never sees another person's identity. Without a view
   * everybody gets the plain batch.
   */
  setStaffView(view: (eventId: number, seats: SeatState[]) => Promise<SeatState[]>): void {
    this.staffView = view;
  }

  waitlistOffer(userId: number, offer: WaitlistOffer): void {
    this.namespaceOf?.(offer.eventId).to(userRoom(userId)).emit('waitlist:offer', offer);
  }

  gaChanged(batch: GaChanged): void {
    if (batch.areas.length) this.namespaceOf?.(batch.eventId).emit('ga:changed', batch);
  }

  private flush(eventId: number): void {
    const p = this.pending.get(eventId);
    if (!p) return;
    this.pending.delete(eventId);
    clearTimeout(p.timer);
    try {
      const batch = { eventId, cursor: p.cursor, seats: [...p.seats.values()] };
      const nsp = this.namespaceOf?.(eventId);
      if (nsp && this.staffView) {
        nsp.except(STAFF_ROOM).emit('seats:changed', batch);
        void this.staffView(eventId, batch.seats)
          .catch((err: unknown) => {
            this.logger.error({ err, eventId }, 'staff view failed; sending the plain batch');
            return batch.seats;
          })
          .then((seats) => {
            try {
              nsp.to(STAFF_ROOM).emit('seats:changed', { ...batch, seats });
            } catch (err) {
              this.logger.error({ err, eventId }, 'staff broadcast failed');
            }
          });
      } else {
        nsp?.emit('seats:changed', batch);
      }
      this.onFlush?.(eventId, p.seats.size);
    } catch (err) {
      // Delivery is at most once by design; clients resync from their cursor. Never throw into a timer.
      this.logger.error({ err, eventId }, 'broadcast failed');
    }
  }

  /** Sends everything still batched (shutdown). */
  flushAll(): void {
    for (const eventId of [...this.pending.keys()]) this.flush(eventId);
  }
}
