import type { Knex } from 'knex';
import type { Trx } from '../db/transaction';
import type { GaLine } from '../contracts';

/**
 * What a hold may carry besides seats (general-admission tickets). The seat core calls these inside its own
 * transactions, so a hold's seats and its other lines are released, expired or booked atomically; it is an
 * optional dependency, so the seat core works without it.
 */
export interface HoldExtras {
  /** The hold ended without a booking (released or expired). True if anything changed. */
  closeHold(trx: Trx, holdId: number): Promise<boolean>;
  /** What else the hold carries: ticket count and total price in cents. */
  holdTotals(trx: Trx, holdId: number): Promise<{ count: number; totalCents: number }>;
  /** Ticket count and total of each hold that carries any (holds without extras are absent): one read per batch. */
  totalsOf(trx: Trx, holdIds: number[]): Promise<Map<number, { count: number; totalCents: number }>>;
  /** The hold was booked as `bookingId`: move its lines to the booking. True if anything changed. */
  bookHold(trx: Trx, holdId: number, bookingId: number): Promise<boolean>;
  /** A booking was cancelled: give its lines back. True if anything changed. */
  cancelBooking(trx: Trx, bookingId: number): Promise<boolean>;
  /** The lines of a booking, for its view. */
  bookingLines(db: Knex, bookingId: number): Promise<GaLine[]>;
  /** After commit: tell watchers of the event what changed. */
  changed(eventId: number): void;
}
