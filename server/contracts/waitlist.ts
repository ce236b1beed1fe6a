/** Waitlist contracts: join, accept, decline and leave (REST and socket), entries as users and staff see them, offers. */
import { z } from 'zod';
import { idempotencyKey } from './bookings';
import { seatStateView, staffSeatView } from './seats';
import { idParam, pageQuery } from '../shared/validation';

const id = z.number().int().positive().max(2 ** 31 - 1);

/** Join an event's waitlist. `section` is a section name of the venue, `category` a priced category. */
export const joinBody = z
  .object({
    partySize: z.number().int().min(1).max(100),
    section: z.string().trim().min(1).max(80).optional(),
    category: z.string().trim().min(1).max(40).optional(),
    together: z.boolean().default(false),
  })
  .strict();
export type JoinInput = z.infer<typeof joinBody>;

export const entryParams = z.object({ id: idParam }).strict();
export const entryPayload = z.object({ entryId: id }).strict();
export const acceptPayload = z.object({ entryId: id, idempotencyKey }).strict();
export const emptyPayload = z.object({}).strict();

export const waitlistStatus = z.enum(['waiting', 'offered', 'accepted', 'declined', 'lapsed', 'cancelled']);
export type WaitlistStatus = z.infer<typeof waitlistStatus>;

export const listWaitlistQuery = z.object({ ...pageQuery, status: waitlistStatus.optional() }).strict();
export type ListWaitlistQuery = z.infer<typeof listWaitlistQuery>;

export const entryView = z.object({
  id: z.number(),
  eventId: z.number(),
  partySize: z.number(),
  section: z.string().nullable(),
  category: z.string().nullable(),
  together: z.boolean(),
  status: waitlistStatus,
  /** 1 = next in line; null unless waiting. */
  position: z.number().nullable(),
  offer: z.object({ holdToken: z.string(), expiresAt: z.string(), seats: z.array(seatStateView) }).nullable(),
  createdAt: z.string(),
});

export const staffEntryView = entryView.extend({ user: z.object({ id: z.number(), name: z.string(), email: z.string() }) });
export const staffEntryPage = z.object({ items: z.array(staffEntryView), page: z.number(), limit: z.number(), total: z.number() });
export type WaitlistEntryView = z.infer<typeof entryView>;
export type WaitlistJoinPayload = z.input<typeof joinBody>;
export type WaitlistEntryPayload = z.input<typeof entryPayload>;
export type WaitlistAcceptPayload = z.input<typeof acceptPayload>;

/** `waitlist:offer`, to a waitlisted user's own sockets: freed seats held for them (a server hold in their name) until `expiresAt`. */
export const waitlistOffer = z.object({
  eventId: z.number(),
  entryId: z.number(),
  holdToken: z.string(),
  /** The offer lapses (and goes to the next in line) at this time. */
  expiresAt: z.string(),
  partySize: z.number(),
  seats: z.array(staffSeatView),
});
export type WaitlistOffer = z.infer<typeof waitlistOffer>;
