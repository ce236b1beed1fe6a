import type { AuthUser } from '../shared/auth-user';
import type { AppError } from '../shared/errors';
import type { HoldRow } from './hold-rules';
import type { SeatState } from '../contracts';

/** A walk-in customer a box-office hold is made for. */
export interface WalkInCustomer {
  name: string;
  email?: string | null;
}

/**
 * The seat commands the group commit decides together. Each is decided exactly as if it ran alone, in arrival
 * order, against the state the commands before it in the batch left.
 */
export type SeatCommand =
  | { kind: 'hold'; actor: AuthUser; seatIds: number[]; holdToken?: string; customer?: WalkInCustomer; clientIp?: string }
  | { kind: 'release'; actor: AuthUser; holdToken: string; seatIds?: number[] }
  | { kind: 'extend'; actor: AuthUser; holdToken: string }
  | { kind: 'book'; actor: AuthUser; holdToken: string; idempotencyKey: string }
  /** The sweeper: these holds lapsed by the database's record; release each one that still has. */
  | { kind: 'expire'; holdIds: number[] };

/** What a hold looks like to its owner after a command: its token, times and every seat it holds now. */
export interface HoldOutcome {
  hold: HoldRow;
  seats: SeatState[];
}

/** A booking row as the inventory writes it. */
export interface BookingRow {
  id: number;
  reference: string;
  event_id: number;
  user_id: number;
  hold_id: number | null;
  idempotency_key: string;
  customer_name: string | null;
  customer_email: string | null;
  status: 'confirmed' | 'cancelled';
  total_cents: number;
  created_at: number;
  cancelled_at: number | null;
}

/**
 * What a booking just made in a batch carries, so its answer needs no read after COMMIT: the seats it booked with
 * their prices (by seat id), and how many general-admission tickets it took (only then are its lines read).
 */
export interface BookedNow {
  seats: { seatId: number; priceCents: number }[];
  gaTickets: number;
}

/** The answer to one command of a batch. */
export type CommandOutcome =
  | { kind: 'hold'; hold: HoldOutcome }
  /** `forcedFrom`: staff released someone else's hold; that holder is told (hold:expired, reason force_release). */
  | { kind: 'release'; released: number[]; hold: HoldOutcome | null; forcedFrom?: { userId: number; holdToken: string } }
  | { kind: 'extend'; hold: HoldOutcome }
  /** `booked`: only on a booking made now; a replay answers with the booking made before. */
  | { kind: 'book'; booking: BookingRow; replayed: boolean; booked?: BookedNow }
  | { kind: 'expire'; expired: { holdId: number; token: string; userId: number; seatIds: number[] }[] };

export type CommandResult = { ok: true; value: CommandOutcome } | { ok: false; error: AppError };
