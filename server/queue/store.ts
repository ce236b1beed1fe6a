/**
 * The waiting room's line, as a store contract. Two implementations keep the same rules: RedisQueueStore (Lua
 * scripts, shared by every node, survives a node restart) and MemoryQueueStore (the embedded single node). Every
 * operation is atomic per event, so nodes that tick, join and leave at once never admit past a limit.
 *
 * The line, per event:
 * - lobby: accounts that joined before the sale start, each with a random draw (the order at start is by draw,
 *   so arriving early buys nothing);
 * - waiting: accounts with a ticket number. At the sale start the lobby is turned into tickets 1..N in draw order;
 *   after it, each new account takes the next number (first come, first served);
 * - active: admitted accounts and the end of their shopping window;
 * - head: the highest ticket admitted so far. A waiting buyer's position is `ticket - head`, so one number per event
 *   tells every socket where it stands.
 */

/** How one event's line is run (from the `waiting_rooms` row; see WaitingRoomConfig in config-store.ts). */
export interface LineRules {
  saleStartsAt: number;
  /** Most accounts admitted and still shopping at once (null: no such limit). */
  maxActive: number | null;
  /** Admissions per minute (null: no such limit). */
  admitPerMinute: number | null;
  windowMs: number;
}

/** Why an account left the line: its window ended, it booked, or it left (or staff removed it). */
export type DoneReason = 'expired' | 'booked' | 'left';

/** One account's place. */
export type Place =
  | { state: 'none' }
  | { state: 'lobby' }
  | { state: 'waiting'; ticket: number }
  | { state: 'admitted'; until: number }
  | { state: 'done'; reason: DoneReason };

/** The event's line as a whole. */
export interface LineTotals {
  /** Highest ticket admitted so far (0: none). */
  head: number;
  waiting: number;
  lobby: number;
  active: number;
  /** Admissions since the line began (every node's). */
  admitted: number;
  /** The lobby has been drawn into tickets (the sale has started). */
  drawn: boolean;
}

/** One admission, from the store's admission log: every node reads it to notify its own sockets. */
export interface Admission {
  /** Position in the admission log (1, 2, …); nodes remember the last one they saw. */
  seq: number;
  userId: number;
  until: number;
}

export interface TickResult extends LineTotals {
  /** Admissions made by this call (the count this node admitted). */
  admittedNow: number;
  /** Windows that ended in this call. */
  expiredNow: number;
  /** Admissions logged after `sinceSeq` (at most 1000), oldest first; with `sinceSeq` -1, this call's own. */
  log: Admission[];
}

export interface QueueStore {
  /** Takes a place for `userId`, or returns the one it has (a second socket of the account shares it). */
  join(eventId: number, userId: number, now: number, rules: LineRules, draw: number): Promise<Place & { totals: LineTotals }>;
  /** The account's place and the line's totals. */
  status(eventId: number, userId: number, now: number, rules: LineRules): Promise<Place & { totals: LineTotals }>;
  /** Removes the account from the line (lobby, waiting or active); true when it was admitted (its slot frees). */
  leave(eventId: number, userId: number, reason: DoneReason): Promise<boolean>;
  /**
   * Draws the lobby when the sale has started, ends lapsed windows, and admits as many as the limits allow.
   * `sinceSeq` -1 returns only the admissions this call made (a node's first look at the event).
   */
  tick(eventId: number, now: number, rules: LineRules, sinceSeq: number): Promise<TickResult>;
  /** True while the account is admitted and its window has not ended. */
  isAdmitted(eventId: number, userId: number, now: number): Promise<boolean>;
  /** Forgets the event's line (queue switched off, tests). */
  clear(eventId: number): Promise<void>;
}

/** Admission log entries kept per event: far more than one tick reads. */
export const ADMISSION_LOG_MAX = 10_000;
/** Log entries one tick returns. */
export const ADMISSION_LOG_READ = 1000;
