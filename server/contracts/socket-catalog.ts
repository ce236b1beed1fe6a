/**
 * The socket protocol as data: every client command (payload schema, answer schema, who may send it) and every
 * server event (payload schema, who receives it), keyed by event name. The AsyncAPI document
 * (docs/asyncapi.ts) is generated from this table, and tests/types/socket-catalog.test-d.ts checks at the type
 * level that its keys and schemas are exactly the ClientToServerEvents / ServerToClientEvents of ./socket, so
 * the document cannot drift from the typed event map the server and clients compile against.
 */
import type { z } from 'zod';
import { bookingCancelledNotice, bookingView, socketConfirmPayload } from './bookings';
import { compactSeatsChanged, compactSeatsSnapshot } from './compact';
import { eventStatusNotice } from './events';
import { gaChanged, gaHoldBody, gaHoldView } from './ga';
import { bestBody, extendPayload, holdBody, holdExpiredNotice, holdView, seatsBatch, socketReleasePayload, syncPayload } from './seats';
import { authRefreshPayload, authRefreshReply, serverReconnectNotice, socketReleaseReply, syncReply, type ClientToServerEvents, type ServerToClientEvents } from './socket';
import { queueAdmitted, queuePlacePayload, queueProgress, queueStatusView } from './queue';
import { acceptPayload, emptyPayload, entryPayload, entryView, joinBody, waitlistOffer } from './waitlist';

/** One client command: what it sends, what `data` its `{ok: true, data}` answer carries, who may send it. */
export interface CommandSpec {
  payload: z.ZodType;
  ack: z.ZodType;
  summary: string;
  /** `user`: the handshake (or `auth:refresh`) must have signed the socket in; `public`: anyone watching. */
  access: 'public' | 'user';
  /** The namespace it travels on: an event's seats (default) or its waiting room. */
  channel?: SocketChannel;
}

/** `event`: `/events/{eventId}`; `queue`: the waiting room, `/queue/{eventId}`. */
export type SocketChannel = 'event' | 'queue';

/** One server event: its payload and which sockets of the namespace receive it. */
export interface ServerEventSpec {
  payload: z.ZodType;
  summary: string;
  /** `watchers`: every socket of the namespace; `own sockets`: only those of the user concerned. */
  audience: 'watchers' | 'own sockets';
  channel?: SocketChannel;
}

/** Every client command of an event namespace (`satisfies` refuses a missing or an unknown name). */
export const socketCommands = {
  'seat:hold': { payload: holdBody, ack: holdView, access: 'user', summary: 'Hold seats (all or none); with holdToken, add them to that hold' },
  'seat:release': {
    payload: socketReleasePayload,
    ack: socketReleaseReply,
    access: 'user',
    summary: 'Release some seats of a hold (all without seatIds); answers what is left of the hold, or {released} once it is empty',
  },
  'hold:extend': { payload: extendPayload, ack: holdView, access: 'user', summary: "Extend a hold by the event's hold TTL, up to its maximum life" },
  'booking:confirm': { payload: socketConfirmPayload, ack: bookingView, access: 'user', summary: 'Book a hold; a repeat with the same idempotencyKey answers the same booking' },
  'seats:sync': {
    payload: syncPayload,
    ack: syncReply,
    access: 'public',
    summary: 'Catch up from cursor (or get a fresh snapshot without one); the seats arrive as seats:changed / seats:snapshot events',
  },
  'auth:refresh': { payload: authRefreshPayload, ack: authRefreshReply, access: 'public', summary: "Swap the socket's access token (same user), e.g. before it expires" },
  'seat:best': { payload: bestBody, ack: holdView, access: 'user', summary: 'Hold the best available seats (adjacent in one row nearest the stage unless allowSplit)' },
  'waitlist:join': { payload: joinBody, ack: entryView, access: 'user', summary: "Join the event's waitlist" },
  'waitlist:status': { payload: emptyPayload, ack: entryView.nullable(), access: 'user', summary: 'Your latest waitlist entry for this event (with position and any offer), or null' },
  'waitlist:accept': { payload: acceptPayload, ack: bookingView, access: 'user', summary: 'Book the seats offered to you' },
  'waitlist:decline': { payload: entryPayload, ack: entryView, access: 'user', summary: 'Decline an offer: its seats go to the next in line' },
  'waitlist:leave': { payload: entryPayload, ack: entryView, access: 'user', summary: 'Leave the waitlist' },
  'ga:hold': { payload: gaHoldBody, ack: gaHoldView, access: 'user', summary: 'Hold N general-admission tickets of one area' },
  'queue:join': { payload: queuePlacePayload, ack: queueStatusView, access: 'user', channel: 'queue', summary: 'Take a place in the waiting room, or get the one this account has (reconnects keep it)' },
  'queue:status': { payload: queuePlacePayload, ack: queueStatusView, access: 'user', channel: 'queue', summary: 'Your place: state, ticket, position, estimated wait, admission' },
  'queue:leave': { payload: queuePlacePayload, ack: queueStatusView, access: 'user', channel: 'queue', summary: 'Leave the line (or, when admitted, hand the slot on)' },
} as const satisfies Record<keyof ClientToServerEvents, CommandSpec>;

/** Every event the server emits on an event namespace. */
export const serverEvents = {
  'seats:snapshot': {
    payload: seatsBatch,
    audience: 'watchers',
    summary: 'Every seat of the event, on connect (JSON form). Staff sockets also get holder and holdToken',
  },
  'seats:changed': {
    payload: seatsBatch,
    audience: 'watchers',
    summary: 'Seats that changed, batched after commits; keep the highest version per seat and the cursor to resume from',
  },
  'seats:snapshot:compact': {
    payload: compactSeatsSnapshot,
    audience: 'watchers',
    summary: "seats:snapshot in the compact form (handshake format: 'compact'): binary fields in layout order",
  },
  'seats:changed:compact': { payload: compactSeatsChanged, audience: 'watchers', summary: 'seats:changed in the compact form' },
  'hold:expired': { payload: holdExpiredNotice, audience: 'own sockets', summary: 'Your hold lapsed, or staff or an event cancellation released it' },
  'server:reconnect': { payload: serverReconnectNotice, audience: 'watchers', summary: 'The node is shutting down: reconnect (with your cursor) to another' },
  'waitlist:offer': { payload: waitlistOffer, audience: 'own sockets', summary: 'Freed seats are held for you until expiresAt' },
  'ga:changed': { payload: gaChanged, audience: 'watchers', summary: 'General-admission availability changed (keep the highest version per area)' },
  'event:status': { payload: eventStatusNotice, audience: 'watchers', summary: "The event's sale status changed" },
  'booking:cancelled': { payload: bookingCancelledNotice, audience: 'own sockets', summary: 'Staff or an event cancellation cancelled your booking' },
  'queue:progress': { payload: queueProgress, audience: 'watchers', channel: 'queue', summary: 'The line moved (at most about once a second): position = ticket - head' },
  'queue:admitted': { payload: queueAdmitted, audience: 'own sockets', channel: 'queue', summary: 'You are admitted until admittedUntil: open the seat map' },
} as const satisfies Record<keyof ServerToClientEvents, ServerEventSpec>;

export type SocketCommandName = keyof typeof socketCommands;
export type ServerEventName = keyof typeof serverEvents;
