/**
 * Wire types the contracts define only as schemas, inferred here the same way (`z.input` for what a client
 * sends, `z.infer` for what the server answers), and the socket command helpers the watch API is typed with.
 */
import type { z } from 'zod';
import type { authReply, bookingPage, ClientToServerEvents, eventPage, gaAvailabilityView, loginBody, registerBody, releaseView, snapshotView } from '../../../server/contracts';
import type { Ack } from '../../../server/contracts';

export type RegisterInput = z.input<typeof registerBody>;
export type LoginInput = z.input<typeof loginBody>;
/** The signed-in user and their access token. */
export type AuthReply = z.infer<typeof authReply>;
export type EventPage = z.infer<typeof eventPage>;
export type BookingPage = z.infer<typeof bookingPage>;
/** A REST release: the seats freed and what is left of the hold (null once it is empty). */
export type ReleaseReply = z.infer<typeof releaseView>;
/** `GET /api/events/:id/seats`. */
export type SeatsSnapshotView = z.infer<typeof snapshotView>;
export type GaAvailability = z.infer<typeof gaAvailabilityView>;

/** A socket command's name. */
export type CommandName = keyof ClientToServerEvents;
/** What a command sends. */
export type CommandPayload<E extends CommandName> = Parameters<ClientToServerEvents[E]>[0];
/** The `data` of a command's `{ok: true, data}` answer. */
export type CommandReply<E extends CommandName> = Parameters<ClientToServerEvents[E]>[1] extends (reply: Ack<infer T>) => void ? T : never;
