/** What buyers count: commands sent and refused by kind, sale marks, and the latencies of holds and bookings. */
import { SaleTimeline } from './sale-timeline';
import { Latency, now, sleep } from './stats';

/** Commands a buyer sends; each kind's answers are counted apart. */
export type CommandKind = 'hold' | 'booking' | 'release';
export const COMMAND_KINDS: readonly CommandKind[] = ['hold', 'booking', 'release'];

/**
 * Per kind of command: everything sent, and the answers that decided nothing: `BUSY` and `RATE_LIMITED`
 * refusals (the buyer waits the server's Retry-After and tries again) and acks that never came (`ACK_TIMEOUT`).
 */
export interface CommandCounts {
  sent: number;
  busy: number;
  rateLimited: number;
  timeouts: number;
}

const noCommands = (): CommandCounts => ({ sent: 0, busy: 0, rateLimited: 0, timeouts: 0 });

/** Instants (the client thread's `now()`, ms) that the sell-out figures are measured between. */
export interface SaleMarks {
  /** The first `seat:hold` sent: the sale opens. */
  firstHoldAt?: number;
  /** The booking ack that took acknowledged booked seats to 95% of the event's seats. */
  sold95At?: number;
  /** The booking ack that took them to 100%. */
  soldOutAt?: number;
  /** The buying phase ended: sold out, or the run's deadline. */
  endedAt?: number;
}

/**
 * The sale's timeline as the buyers saw it (client thread's `now()`, ms), for figures that need more than a mark:
 * which seats were sold, and which sat in a hold a buyer chose to let lapse (out of the server's reach until the
 * hold's TTL ends, whatever the server's speed). Plain tuples: they cross the thread boundary as they are.
 */
export interface SaleLog {
  /** [booking ack, seats] of each acknowledged booking. */
  booked: [at: number, seats: number][];
  /** [hold ack, seats, the hold's stored expiry] of each successful hold a buyer chose to let lapse. */
  lapsing: [at: number, seats: number, until: number][];
}

/** Everything the buyers measure, shared by all of them. */
export class BuyerStats {
  /** Hold commands the server decided: a hold, or a real refusal (SEAT_UNAVAILABLE, HOLD_LIMIT_REACHED, ...). Never BUSY/RATE_LIMITED. */
  holdAttempts = 0;
  holds = 0;
  conflicts = 0;
  bookings = 0;
  /** Booking commands the server decided (never BUSY/RATE_LIMITED; a retry after one is the same attempt). */
  bookingAttempts = 0;
  releases = 0;
  letExpire = 0;
  seatsHeld = 0;
  seatsBooked = 0;
  /** Seats in the event, for the sell-out marks (0: not tracked). */
  totalSeats = 0;
  marks: SaleMarks = {};
  sale: SaleLog = { booked: [], lapsing: [] };
  /**
   * `seats:changed` batches (either form) received by all buyers together while `countingBatches` (the buying
   * phase), and the seats in them: the broadcast rate a bare baseline has to reproduce (load/ack-echo.ts).
   */
  changeBatches = 0;
  changedSeats = 0;
  countingBatches = false;
  commands: Record<CommandKind, CommandCounts> = { hold: noCommands(), booking: noCommands(), release: noCommands() };
  errors: Record<string, number> = {};
  /** emit -> ack of each hold command that was not refused with BUSY/RATE_LIMITED (ack timeouts included). */
  readonly holdAck = new Latency();
  /** The same for booking commands. */
  readonly bookAck = new Latency();
  readonly releaseAck = new Latency();
  /** Hold acks by the second of the sale they were sent in, and change batches received per second. */
  readonly timeline = new SaleTimeline();
  /** emit -> ack of the BUSY/RATE_LIMITED refusals (all kinds). */
  readonly refusedAck = new Latency();
  /** A buyer's first hold command of a try -> the decided answer, Retry-After waits and resends included. */
  readonly holdDecision = new Latency();
  /** First booking command -> the decided answer, Retry-After waits and resends included. */
  readonly bookDecision = new Latency();
  /** Hold expiry (stored expiresAt) to the holder's receipt of the seat becoming available. */
  readonly expiryDelivery = new Latency();
  /** Bookings the server acknowledged, for the audit. */
  readonly acked: { bookingId: number; seatIds: number[] }[] = [];
  connectFailures = 0;

  error(code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  /** Counts seats of an acknowledged booking and marks the 95% and sold-out instants. */
  booked(seats: number, at: number): void {
    this.seatsBooked += seats;
    this.sale.booked.push([at, seats]);
    if (this.totalSeats <= 0) return;
    if (this.marks.sold95At === undefined && this.seatsBooked >= Math.ceil(this.totalSeats * 0.95)) this.marks.sold95At = at;
    if (this.marks.soldOutAt === undefined && this.seatsBooked >= this.totalSeats) this.marks.soldOutAt = at;
  }

  /** Counts a successful hold of `seats` that the buyer leaves to lapse at `until` (same clock as `at`). */
  letLapse(seats: number, at: number, until: number): void {
    this.letExpire++;
    this.sale.lapsing.push([at, seats, until]);
  }

  /** Counts a change batch of `seats` seats received by one buyer, during the buying phase only. */
  changeBatch(seats: number): void {
    if (!this.countingBatches) return;
    this.changeBatches++;
    this.changedSeats += seats;
    if (this.marks.firstHoldAt !== undefined) this.timeline.recordBatch((now() - this.marks.firstHoldAt) / 1000);
  }
}

/** How a command ended for the buyer: decided by the server, refused for now (waited, send again), or no ack. */
export type Outcome = 'decided' | 'later' | 'timeout';

/** Sleeps `ms`, waking early once `stop()` says the run is over (checked every 100 ms). */
export async function sleepUnless(ms: number, stop: () => boolean): Promise<void> {
  const end = now() + ms;
  while (!stop()) {
    const left = end - now();
    if (left <= 0) return;
    await sleep(Math.min(100, left));
  }
}
