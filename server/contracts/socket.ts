/**
 * The Socket.IO protocol: the handshake, the events the server emits and the commands clients send, built from
 * the same zod schemas the handlers validate with (the payload types are their `z.input`, the replies their
 * `z.infer`). Shared by the server, client-demo, load/ and the tests; tests/types/socket-events.test-d.ts pins it.
 *
 * Namespace: `/events/<eventId>` (contracts/namespace.ts). Handshake `auth: { token?, cursor?, format? }`: watching
 * needs no token, acting needs one; `cursor` (from a previous snapshot or change batch) asks for catch-up instead
 * of a snapshot; `format: 'compact'` asks for seat state in layout order (`seats:snapshot:compact`,
 * `seats:changed:compact`) instead of one JSON object per seat (the default, `'json'`). Box office and admin
 * sockets always get JSON: their batches carry holders, which the compact form has no room for.
 */
import { z } from 'zod';
import type { BookingConfirmPayload, BookingCancelledNotice, BookingView } from './bookings';
import { seatStateFormat, type CompactSeatsChanged, type CompactSeatsSnapshot } from './compact';
import type { AckFn } from './errors';
import type { EventStatusNotice } from './events';
import type { GaChanged, GaHoldPayload, GaHoldView } from './ga';
import { holdView, type HoldExpiredNotice, type HoldExtendPayload, type HoldView, type SeatBestPayload, type SeatHoldPayload, type SeatReleasePayload, type SeatsChanged, type SeatsSnapshot, type SeatsSyncPayload } from './seats';
import type { QueueAdmitted, QueueProgress, QueueStatus } from './queue';
import type { WaitlistAcceptPayload, WaitlistEntryPayload, WaitlistEntryView, WaitlistJoinPayload, WaitlistOffer } from './waitlist';

/** Handshake `auth` object (`format` defaults to `'json'`). */
export const handshakeAuth = z
  .object({
    token: z.string().min(1).max(4096).optional(),
    cursor: z.number().int().min(0).optional(),
    format: seatStateFormat.optional(),
  })
  .strict();
export type HandshakeAuth = z.infer<typeof handshakeAuth>;

/** `auth:refresh`: swap the socket's access token (e.g. before it expires). */
export const authRefreshPayload = z.object({ token: z.string().min(1).max(4096) }).strict();
export type AuthRefreshPayload = z.input<typeof authRefreshPayload>;

// Answers and notices that exist only on the socket; their schemas feed the AsyncAPI document (docs/asyncapi.ts).
/** `auth:refresh`'s answer: when the new token expires. */
export const authRefreshReply = z.object({ expiresAt: z.string() });
/** `seats:sync`'s answer: whether catch-up changes or a fresh snapshot follow as events. */
export const syncReply = z.object({ mode: z.enum(['changes', 'snapshot']) });
/** `seat:release`'s answer: what is left of the hold, or only the seats released once it is empty. */
export const socketReleaseReply = z.union([holdView, z.object({ released: z.array(z.number()) })]);
/** `server:reconnect`: the node is going away; reconnect (and catch up from the cursor). */
export const serverReconnectNotice = z.object({ reason: z.string() });

export interface ServerToClientEvents {
  'seats:snapshot': (snapshot: SeatsSnapshot) => void;
  'seats:changed': (batch: SeatsChanged) => void;
  /** The compact forms of the two above, for sockets that asked for `format: 'compact'`. */
  'seats:snapshot:compact': (snapshot: CompactSeatsSnapshot) => void;
  'seats:changed:compact': (batch: CompactSeatsChanged) => void;
  /** Sent to the holder's own sockets when their hold lapsed. */
  'hold:expired': (notice: HoldExpiredNotice) => void;
  /** The server is shutting down or asks clients to reconnect (they then catch up from their cursor). */
  'server:reconnect': (info: z.infer<typeof serverReconnectNotice>) => void;
  /** Sent to a waitlisted user's own sockets: freed seats are held for them until `expiresAt`. */
  'waitlist:offer': (offer: WaitlistOffer) => void;
  /** General-admission availability changed (clients keep the highest version per area). */
  'ga:changed': (batch: GaChanged) => void;
  /** The event's sale status changed (on sale, closed, cancelled); sent to everyone watching it. */
  'event:status': (notice: EventStatusNotice) => void;
  /** Sent to the booker's own sockets when staff or an event cancellation cancelled their booking. */
  'booking:cancelled': (notice: BookingCancelledNotice) => void;
  /** Waiting room (`/queue/<eventId>` namespace): the line moved; about once a second at most. */
  'queue:progress': (progress: QueueProgress) => void;
  /** Waiting room: you are admitted until `admittedUntil`; open the seat map. */
  'queue:admitted': (notice: QueueAdmitted) => void;
}

export interface ClientToServerEvents {
  'seat:hold': (payload: SeatHoldPayload, ack: AckFn<HoldView>) => void;
  'seat:release': (payload: SeatReleasePayload, ack: AckFn<z.infer<typeof socketReleaseReply>>) => void;
  'hold:extend': (payload: HoldExtendPayload, ack: AckFn<HoldView>) => void;
  'booking:confirm': (payload: BookingConfirmPayload, ack: AckFn<BookingView>) => void;
  /** Ask for catch-up from `cursor` (or a fresh snapshot without one); the answer arrives as events. */
  'seats:sync': (payload: SeatsSyncPayload, ack: AckFn<z.infer<typeof syncReply>>) => void;
  /** Swap the socket's access token (e.g. before it expires). */
  'auth:refresh': (payload: AuthRefreshPayload, ack: AckFn<z.infer<typeof authRefreshReply>>) => void;
  /** Hold the best available seats (adjacent in one row nearest the stage unless allowSplit). */
  'seat:best': (payload: SeatBestPayload, ack: AckFn<HoldView>) => void;
  'waitlist:join': (payload: WaitlistJoinPayload, ack: AckFn<WaitlistEntryView>) => void;
  /** Your latest waitlist entry for this event (with position and any offer), or null. */
  'waitlist:status': (payload: Record<string, never>, ack: AckFn<WaitlistEntryView | null>) => void;
  /** Book the seats offered to you. */
  'waitlist:accept': (payload: WaitlistAcceptPayload, ack: AckFn<BookingView>) => void;
  /** Decline an offer: its seats go to the next in line. */
  'waitlist:decline': (payload: WaitlistEntryPayload, ack: AckFn<WaitlistEntryView>) => void;
  'waitlist:leave': (payload: WaitlistEntryPayload, ack: AckFn<WaitlistEntryView>) => void;
  /** Hold N general-admission tickets of one area. */
  'ga:hold': (payload: GaHoldPayload, ack: AckFn<GaHoldView>) => void;
  /** Waiting room (`/queue/<eventId>`): take a place, or get the one this account has (reconnects keep it). */
  'queue:join': (payload: Record<string, never>, ack: AckFn<QueueStatus>) => void;
  'queue:status': (payload: Record<string, never>, ack: AckFn<QueueStatus>) => void;
  /** Leave the line (or, when admitted, hand the slot on). */
  'queue:leave': (payload: Record<string, never>, ack: AckFn<QueueStatus>) => void;
}
