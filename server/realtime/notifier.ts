import type { GaChanged, WaitlistOffer } from '../contracts';
import type { BookingCancelledNotice, EventStatusNotice, HoldExpiredNotice, SeatState } from '../contracts';

/**
 * What services tell the real-time layer *after* a transaction commits. Services never touch Socket.IO;
 * the broadcaster implements this. Broadcasts report decisions already made, they never make one.
 */
export interface Notifier {
  /** Seats of an event changed; `cursor` is the highest seat_changes id written. */
  seatsChanged(eventId: number, seats: SeatState[], cursor: number): void;
  /** A hold lapsed: tell the holder's own sockets. */
  holdExpired(userId: number, notice: HoldExpiredNotice): void;
  /** A waitlist offer was made: tell that user's own sockets. */
  waitlistOffer?(userId: number, offer: WaitlistOffer): void;
  /** General-admission availability of an event changed. */
  gaChanged?(batch: GaChanged): void;
  /** The event's status changed: tell everyone watching it. Optional so other notifiers need not care. */
  eventStatus?(notice: EventStatusNotice): void;
  /** A booking was cancelled by staff or with its event: tell the booker's own sockets. */
  bookingCancelled?(userId: number, notice: BookingCancelledNotice): void;
}

/** For scripts and tests that run services without sockets. */
export const silentNotifier: Notifier = {
  seatsChanged: () => undefined,
  holdExpired: () => undefined,
};
