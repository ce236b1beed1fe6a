import type { HoldExpiredNotice, SeatState } from './protocol';

/**
 * What services tell the real-time layer *after* a transaction commits. Services never touch Socket.IO;
 * the broadcaster implements this. Broadcasts report decisions already made, they never make one.
 */
export interface Notifier {
  /** Seats of an event changed; `cursor` is the highest seat_changes id written. */
  seatsChanged(eventId: number, seats: SeatState[], cursor: number): void;
  /** A hold lapsed: tell the holder's own sockets. */
  holdExpired(userId: number, notice: HoldExpiredNotice): void;
}

/** For scripts and tests that run services without sockets. */
export const silentNotifier: Notifier = {
  seatsChanged: () => undefined,
  holdExpired: () => undefined,
};
