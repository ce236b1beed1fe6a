/**
 * A group-committed batch as data: what its transaction read (BatchState, by batch-read.ts) and what deciding its
 * commands (decide.ts) left to write (BatchPlan, written by batch-write.ts). The two halves meet only here.
 */
import type { SeatStatus } from '../contracts';
import type { BookingRow, CommandResult } from './commands';
import type { EventRules, HoldRow } from './hold-rules';
import type { SeatRow } from './seat-store';

/** What a batch read in its transaction: the seats, holds and counts its commands need, as of `now`. */
export interface BatchState {
  eventId: number;
  now: number;
  /** The event's rules; undefined when it does not exist. */
  event: EventRules | undefined;
  holdsByToken: Map<string, HoldRow>;
  holdsById: Map<number, HoldRow>;
  /** Seats of this event the commands name, and every seat of the holds they name. */
  seats: Map<number, SeatRow>;
  /** Seats each buyer who asks for seats holds live in the event (the per-user limit). */
  heldByUser: Map<number, number>;
  /** The per-IP cap (0: off) and the seats held live from each address asking for seats. */
  ipCap: number;
  heldByIp: Map<string, number>;
  /** Bookings already made with the idempotency keys in the batch, by `${userId}:${key}`. */
  previousBookings: Map<string, BookingRow>;
  /** What else (general-admission tickets) each hold the batch books, releases or expires carries. */
  extras: Map<number, { count: number; totalCents: number }>;
  /** Whether anyone wanted the seats this batch frees, as read with the event's rules (true when not asked). */
  freedWanted: boolean;
}

/** One seat transition, in the order the batch decided it (one seat_changes row each). */
export interface Transition {
  seatId: number;
  from: SeatStatus;
  to: SeatStatus;
  version: number;
  holdId: number | null;
  bookingId: number | null;
  holdExpiresAt: number | null;
  actorId: number | null;
  reason: string;
}

/** The working copy of a seat: where the batch has moved it so far. */
export interface WorkingSeat extends SeatRow {
  readVersion: number;
}

/**
 * Everything a decided batch writes. New holds and bookings carry negative placeholder ids until they are
 * inserted; `resolveIds` swaps in the real ones (the objects are shared with the outcomes, so replies follow).
 */
export interface BatchPlan {
  results: CommandResult[];
  newHolds: HoldRow[];
  newBookings: BookingRow[];
  transitions: Transition[];
  /** Every seat that changed, with the version it was read at and where it ends. */
  touched: Map<number, WorkingSeat>;
  /** Existing holds whose status or expiry changed (all were active when read). */
  changedHolds: Map<number, HoldRow>;
  bookingSeats: { bookingId: number; seatId: number; priceCents: number }[];
  /** Holds whose extras go back (released or expired) / move to a booking. */
  extrasClosed: number[];
  extrasBooked: { holdId: number; bookingId: number }[];
  /** Seats that became available (the waitlist gets first go at them). */
  freed: number[];
}

