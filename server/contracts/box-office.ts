/** Box-office contracts (staff): walk-in holds, force release, blocking seats, reseating, and the staff snapshot. */
import { z } from 'zod';
import { idParam } from '../shared/validation';
import { holdToken, seatIdList, staffSeatView } from './seats';

export const BLOCK_REASONS = ['house', 'broken', 'other'] as const;
export const blockBody = z.object({ seatIds: seatIdList, reason: z.enum(BLOCK_REASONS).default('other') }).strict();
export const unblockBody = z.object({ seatIds: seatIdList }).strict();

export const walkInCustomer = z
  .object({ name: z.string().trim().min(1).max(120), email: z.email().max(254).toLowerCase().nullable().optional() })
  .strict();
export const boxOfficeHoldBody = z.object({ seatIds: seatIdList, customer: walkInCustomer }).strict();
export const forceReleaseBody = z.object({ seatIds: seatIdList.optional() }).strict();
export const reseatBody = z.object({ seatIds: seatIdList }).strict();

export const tokenParams = z.object({ token: holdToken }).strict();
export const bookingParams = z.object({ id: idParam }).strict();

/** Staff snapshot: the buyer snapshot plus who holds or booked each seat. */
export const staffSnapshotView = z.object({ eventId: z.number(), cursor: z.number(), seats: z.array(staffSeatView) });
export type StaffSnapshot = z.infer<typeof staffSnapshotView>;
