/**
 * The Socket.IO protocol: event names and payload types, shared by the server, client-demo and load/.
 * This file must stay dependency-free (types and constants only) so the browser bundle can import it.
 *
 * Namespace: `/events/<eventId>`. Handshake `auth: { token?, cursor?, format? }`: watching needs no token, acting
 * needs one; `cursor` (from a previous snapshot or change batch) asks for catch-up instead of a snapshot;
 * `format: 'compact'` asks for seat state in layout order (`seats:snapshot:compact`, `seats:changed:compact`)
 * instead of one JSON object per seat (the default, `'json'`). Box office and admin sockets always get JSON:
 * their batches carry holders, which the compact form has no room for.
 */

export type SeatStatus = 'available' | 'held' | 'booked' | 'blocked';

/** One seat's state as broadcast. Clients keep, per seat, the state with the highest `version`. */
export interface SeatState {
  id: number;
  status: SeatStatus;
  version: number;
  /** ISO time the hold lapses; only for `held`. */
  expiresAt?: string;
  /** Box-office namespaces only: who holds or booked the seat. Never sent to buyers. */
  holder?: { userId: number; name: string; email: string };
  /** Box-office namespaces only, held seats: the hold's token (staff may force-release it). */
  holdToken?: string;
}

export interface SeatsSnapshot {
  eventId: number;
  /** Pass back as `auth.cursor` on reconnect (or to `seats:sync`) to receive only what changed. */
  cursor: number;
  seats: SeatState[];
}

export interface SeatsChanged {
  eventId: number;
  /** Highest seat_changes id in this batch; keep the highest seen as your cursor. */
  cursor: number;
  seats: SeatState[];
}

/**
 * A binary attachment: a Buffer (a Uint8Array) when sent or received by Node, an ArrayBuffer in a browser.
 * `bytes()` in compact.ts reads either.
 */
export type BinaryField = Uint8Array | ArrayBuffer;

/**
 * `seats:snapshot:compact`: every seat of the layout (`GET /api/events/:id/layout`, version `layoutVersion`), in
 * the order of its `seats` array. Codec and rationale: compact.ts and docs/DESIGN.md.
 */
export interface CompactSeatsSnapshot {
  eventId: number;
  cursor: number;
  /** The layout version (the layout's ETag) whose seat order this state follows. */
  layoutVersion: string;
  /** Seats in the layout; `status` has this many bytes and `versions` this many varints. */
  count: number;
  /** One byte per seat: 0 available, 1 held, 2 booked, 3 blocked (255: no state for this seat). */
  status: BinaryField;
  /** One unsigned LEB128 varint per seat: its version. */
  versions: BinaryField;
  /** Epoch ms that `expiresAt` counts from (the earliest expiry; 0 without held seats). */
  expiresBase: number;
  /** One varint per held seat, in layout order of the held seats: 1 + ms after `expiresBase`, or 0 for none. */
  expiresAt: BinaryField;
}

/** `seats:changed:compact`: the seats of one batch, as layout indexes (ascending, varint gaps) with their state. */
export interface CompactSeatsChanged {
  eventId: number;
  cursor: number;
  layoutVersion: string;
  /** Seats in this batch. */
  count: number;
  /** `count` varints: the first seat's layout index, then the gap to each next one. */
  indexes: BinaryField;
  status: BinaryField;
  versions: BinaryField;
  expiresBase: number;
  expiresAt: BinaryField;
}

/** Which form of seat state a socket asks for in its handshake. */
export type SeatStateFormat = 'json' | 'compact';

export interface ErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

export type Ack<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };
export type AckFn<T> = (reply: Ack<T>) => void;

export interface HoldView {
  holdToken: string;
  eventId: number;
  expiresAt: string;
  /** Latest time extensions can reach. */
  maxExpiresAt: string;
  seats: SeatState[];
}

export interface BookingSeatView {
  seatId: number;
  label: string;
  section: string;
  row: string;
  number: number;
  category: string;
  priceCents: number;
}

export interface BookingView {
  id: number;
  reference: string;
  eventId: number;
  status: 'confirmed' | 'cancelled';
  totalCents: number;
  currency: string;
  seats: BookingSeatView[];
  customer?: { name: string; email: string | null };
  createdAt: string;
  cancelledAt?: string;
  /** Waitlist and general-admission tickets on this booking (none for a seats-only booking). */
  ga?: BookingGaLine[];
}

export interface HoldExpiredNotice {
  eventId: number;
  holdToken: string;
  seatIds: number[];
  /** Why the hold ended when it did not simply lapse: `event_cancelled`, or `force_release` (staff released these seats; a partial release leaves the rest of the hold live). */
  reason?: string;
}

/** Payloads clients send. Every field is validated server-side with zod `.strict()`. */
export interface SeatHoldPayload {
  seatIds: number[];
  /** Add the seats to this existing hold instead of starting a new one. */
  holdToken?: string;
}
export interface SeatReleasePayload {
  holdToken: string;
  /** Release only these seats; all of the hold when omitted. */
  seatIds?: number[];
}
export interface HoldExtendPayload {
  holdToken: string;
}
export interface BookingConfirmPayload {
  holdToken: string;
  /** Client-chosen; a repeat with the same key returns the same booking. */
  idempotencyKey: string;
}
export interface SeatsSyncPayload {
  cursor?: number;
}
export interface AuthRefreshPayload {
  token: string;
}

export interface ServerToClientEvents {
  'seats:snapshot': (snapshot: SeatsSnapshot) => void;
  'seats:changed': (batch: SeatsChanged) => void;
  /** The compact forms of the two above, for sockets that asked for `format: 'compact'`. */
  'seats:snapshot:compact': (snapshot: CompactSeatsSnapshot) => void;
  'seats:changed:compact': (batch: CompactSeatsChanged) => void;
  /** Sent to the holder's own sockets when their hold lapsed. */
  'hold:expired': (notice: HoldExpiredNotice) => void;
  /** The server is shutting down or asks clients to reconnect (they then catch up from their cursor). */
  'server:reconnect': (info: { reason: string }) => void;
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
  'seat:release': (payload: SeatReleasePayload, ack: AckFn<HoldView | { released: number[] }>) => void;
  'hold:extend': (payload: HoldExtendPayload, ack: AckFn<HoldView>) => void;
  'booking:confirm': (payload: BookingConfirmPayload, ack: AckFn<BookingView>) => void;
  /** Ask for catch-up from `cursor` (or a fresh snapshot without one); the answer arrives as events. */
  'seats:sync': (payload: SeatsSyncPayload, ack: AckFn<{ mode: 'changes' | 'snapshot' }>) => void;
  /** Swap the socket's access token (e.g. before it expires). */
  'auth:refresh': (payload: AuthRefreshPayload, ack: AckFn<{ expiresAt: string }>) => void;
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

/** Handshake `auth` object. */
export interface HandshakeAuth {
  token?: string;
  cursor?: number;
  /** Default `'json'`. */
  format?: SeatStateFormat;
}

/** `GET /api/events/:id/layout`: the static part of a seat map, and the seat order of the compact form. */
export interface LayoutSeat {
  id: number;
  sectionId: number;
  section: string;
  row: string;
  number: number;
  label: string;
  x: number;
  y: number;
  category: string;
  accessible: boolean;
}
export interface EventLayout {
  venueId: number;
  /** Also the response's ETag; compact payloads name it so a client knows its seat order still fits. */
  layoutVersion: string;
  sections: { id: number; name: string; kind: 'seated' | 'ga'; capacity: number | null; category: string | null }[];
  /** In compact order: the seat at index i of a compact payload is `seats[i]`. */
  seats: LayoutSeat[];
}

export const eventNamespace = (eventId: number): string => `/events/${eventId}`;

/** `event:status`: the event's status changed. */
export interface EventStatusNotice {
  eventId: number;
  status: 'draft' | 'on_sale' | 'closed' | 'cancelled';
  reason?: string;
}

/** `booking:cancelled`: one of your bookings was cancelled by someone else. */
export interface BookingCancelledNotice {
  eventId: number;
  bookingId: number;
  reference: string;
  reason: string;
}

/** `seat:best`: how many seats, optionally limited to a category, a section (by name) or accessible seats. */
export interface SeatBestPayload {
  quantity: number;
  category?: string;
  section?: string;
  accessible?: boolean;
  /** Accept seats that are not one adjacent block when no block fits. */
  allowSplit?: boolean;
}

export type WaitlistStatus = 'waiting' | 'offered' | 'accepted' | 'declined' | 'lapsed' | 'cancelled';

/** `waitlist:offer`: freed seats held for a waitlisted user (a server hold in their name). */
export interface WaitlistOffer {
  eventId: number;
  entryId: number;
  holdToken: string;
  /** The offer lapses (and goes to the next in line) at this time. */
  expiresAt: string;
  partySize: number;
  seats: SeatState[];
}

export interface WaitlistEntryView {
  id: number;
  eventId: number;
  partySize: number;
  section: string | null;
  category: string | null;
  together: boolean;
  status: WaitlistStatus;
  /** 1 = next in line; null unless waiting. */
  position: number | null;
  offer: { holdToken: string; expiresAt: string; seats: SeatState[] } | null;
  createdAt: string;
}

export interface WaitlistJoinPayload {
  partySize: number;
  section?: string;
  category?: string;
  /** The party must sit together (adjacent seats in one row). */
  together?: boolean;
}
export interface WaitlistEntryPayload {
  entryId: number;
}
export interface WaitlistAcceptPayload {
  entryId: number;
  idempotencyKey: string;
}

/** General admission: one area's availability. */
export interface GaAreaState {
  sectionId: number;
  available: number;
  version: number;
}
export interface GaChanged {
  eventId: number;
  areas: GaAreaState[];
}
export interface GaHoldPayload {
  sectionId: number;
  quantity: number;
}
export interface GaLine {
  sectionId: number;
  section: string;
  quantity: number;
  /** Per ticket. */
  priceCents: number;
}
export type BookingGaLine = GaLine;
/** A hold that carries general-admission tickets. */
export interface GaHoldView extends HoldView {
  ga: GaLine[];
}

/**
 * Waiting room (issue 12; docs/WAITING-ROOM.md). A buyer connects to `/queue/<eventId>` with a token and sends
 * `queue:join`. Before the sale start it is in the `lobby` (its place is drawn at random at the start); then it
 * has a `ticket`, and its position is `ticket - head` where `head` comes with every `queue:progress`.
 */
export type QueueState = 'off' | 'none' | 'lobby' | 'waiting' | 'admitted' | 'done';

export interface QueueLine {
  /** Highest ticket admitted so far. */
  head: number;
  waiting: number;
  lobby: number;
  /** The lobby has been drawn (the sale has started): a `lobby` client asks `queue:status` for its ticket. */
  drawn: boolean;
  /** Admissions per minute lately: wait ≈ position / ratePerMinute minutes. */
  ratePerMinute: number;
}

export interface QueueStatus {
  eventId: number;
  state: QueueState;
  opensAt: string | null;
  saleStartsAt: string | null;
  windowSeconds: number | null;
  ticket: number | null;
  position: number | null;
  estimatedWaitSeconds: number | null;
  admittedUntil: string | null;
  doneReason: 'expired' | 'booked' | 'left' | null;
  line: QueueLine;
}

/** `queue:progress`: one message per event per node per second, the same for every queued socket. */
export interface QueueProgress extends QueueLine {
  eventId: number;
}

export interface QueueAdmitted {
  eventId: number;
  admittedUntil: string;
}

export const queueNamespace = (eventId: number): string => `/queue/${eventId}`;
