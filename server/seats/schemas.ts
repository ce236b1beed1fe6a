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

export const seatStateView = z.object({
  id: z.number(),
  status: z.enum(['available', 'held', 'booked', 'blocked']),
  version: z.number(),
  expiresAt: z.string().optional(),
});

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
