/** General-admission contracts: hold N tickets of an area, its lines on holds and bookings, area availability. */
import { z } from 'zod';
import { holdView } from './seats';

const id = z.number().int().positive().max(2 ** 31 - 1);

/** Hold N general-admission tickets of one area (bounded like a seat request). */
export const gaHoldBody = z.object({ sectionId: id, quantity: z.number().int().min(1).max(100) }).strict();
export type GaHoldBody = z.infer<typeof gaHoldBody>;

export const gaLineView = z.object({ sectionId: z.number(), section: z.string(), quantity: z.number(), priceCents: z.number() });
export const gaHoldView = holdView.extend({ ga: z.array(gaLineView) });

export const gaAreaView = z.object({
  sectionId: z.number(),
  name: z.string(),
  category: z.string().nullable(),
  capacity: z.number(),
  available: z.number(),
  priceCents: z.number(),
  version: z.number(),
});
export const gaAvailabilityView = z.object({ eventId: z.number(), areas: z.array(gaAreaView) });
export type GaAreaView = z.infer<typeof gaAreaView>;
export type GaHoldPayload = z.input<typeof gaHoldBody>;
/** Per ticket: `priceCents`. */
export type GaLine = z.infer<typeof gaLineView>;
export type BookingGaLine = GaLine;
/** A hold that carries general-admission tickets. */
export type GaHoldView = z.infer<typeof gaHoldView>;

/** One area's availability as broadcast (clients keep the highest version per area). */
export const gaAreaState = z.object({ sectionId: z.number(), available: z.number(), version: z.number() });
export type GaAreaState = z.infer<typeof gaAreaState>;
/** `ga:changed`: general-admission availability changed. */
export const gaChanged = z.object({ eventId: z.number(), areas: z.array(gaAreaState) });
export type GaChanged = z.infer<typeof gaChanged>;
