/**
 * Seat contracts: what a client sends to hold, release, extend and sync seats, and the seat state, holds and
 * notices the server answers and broadcasts. The TypeScript types are inferred from these schemas, so the
 * payload a handler validates, the type a client compiles against and the OpenAPI document are one thing.
 */
import { z } from 'zod';

/** Hard upper bound on seats in one request, whatever an event allows; keeps payloads and SQL small. */
export const MAX_SEATS_PER_REQUEST = 100;

const seatId = z.number().int().positive().max(2 ** 31 - 1);
export const holdToken = z.string().min(16).max(64).regex(/^[A-Za-z0-9_-]+$/, 'must be a hold token');

export const seatIdList = z
  .array(seatId)
  .min(1, 'name at least one seat')
  .max(MAX_SEATS_PER_REQUEST, `at most ${MAX_SEATS_PER_REQUEST} seats per request`)
  .refine((ids) => new Set(ids).size === ids.length, 'seat ids must not repeat');

export const holdBody = z.object({ seatIds: seatIdList, holdToken: holdToken.optional() }).strict();
export const releaseBody = z.object({ seatIds: seatIdList.optional() }).strict();
export const socketReleasePayload = z.object({ holdToken, seatIds: seatIdList.optional() }).strict();
export const extendPayload = z.object({ holdToken }).strict();
export const syncPayload = z.object({ cursor: z.number().int().min(0).optional() }).strict();

export const seatStatus = z.enum(['available', 'held', 'booked', 'blocked']);
export type SeatStatus = z.infer<typeof seatStatus>;

/** One seat's state as buyers see it. Clients keep, per seat, the state with the highest `version`. */
export const seatStateView = z.object({
  id: z.number(),
  status: seatStatus,
  version: z.number(),
  /** ISO time the hold lapses; only for `held`. */
  expiresAt: z.string().optional(),
});

/** Who holds or booked a seat: box-office namespaces and staff routes only, never sent to buyers. */
export const holderView = z.object({ userId: z.number(), name: z.string(), email: z.string() });
/** A seat as staff see it: with its holder and, for held seats, the hold's token (staff may force-release it). */
export const staffSeatView = seatStateView.extend({ holder: holderView.optional(), holdToken: z.string().optional() });
/** One seat's state as broadcast: buyers' batches never carry `holder` or `holdToken`. */
export type SeatState = z.infer<typeof staffSeatView>;

export const holdView = z.object({
  holdToken: z.string(),
  eventId: z.number(),
  expiresAt: z.string(),
  maxExpiresAt: z.string(),
  seats: z.array(seatStateView),
});

/** A release: the seats freed and what is left of the hold (null once it is empty). */
export const releaseView = z.object({ released: z.array(z.number()), hold: holdView.nullable() });

/** Seats as they are after a staff action (block, unblock). */
export const seatsView = z.object({ seats: z.array(seatStateView) });

export const snapshotView = z.object({ eventId: z.number(), cursor: z.number(), seats: z.array(seatStateView) });

/**
 * `seats:snapshot` and `seats:changed`. `cursor`: the highest seat_changes id included; pass it back as
 * `auth.cursor` on reconnect (or to `seats:sync`) to receive only what changed since.
 */
export const seatsBatch = z.object({ eventId: z.number(), cursor: z.number(), seats: z.array(staffSeatView) });
export type SeatsSnapshot = z.infer<typeof seatsBatch>;
export type SeatsChanged = z.infer<typeof seatsBatch>;
export type HoldView = z.infer<typeof holdView>;

/** `hold:expired`, to the holder's own sockets. */
export const holdExpiredNotice = z.object({
  eventId: z.number(),
  holdToken: z.string(),
  seatIds: z.array(z.number()),
  /** Why the hold ended when it did not simply lapse: `event_cancelled`, or `force_release` (staff released these seats; a partial release leaves the rest of the hold live). */
  reason: z.string().optional(),
});
export type HoldExpiredNotice = z.infer<typeof holdExpiredNotice>;

/** `seat:best` and `POST /events/:id/holds/best`: how many seats, optionally limited to a category, a section (by name) or accessible seats. */
export const bestBody = z
  .object({
    quantity: z.number().int().min(1).max(MAX_SEATS_PER_REQUEST),
    category: z.string().trim().min(1).max(40).optional(),
    section: z.string().trim().min(1).max(80).optional(),
    accessible: z.boolean().optional(),
    /** Accept seats that are not one adjacent block when no block fits. */
    allowSplit: z.boolean().default(false),
  })
  .strict();
export type BestInput = z.infer<typeof bestBody>;

/** Payloads clients send (before defaults apply). */
export type SeatHoldPayload = z.input<typeof holdBody>;
export type SeatReleasePayload = z.input<typeof socketReleasePayload>;
export type HoldExtendPayload = z.input<typeof extendPayload>;
export type SeatsSyncPayload = z.input<typeof syncPayload>;
export type SeatBestPayload = z.input<typeof bestBody>;
