/**
 * Type-level test of the socket event map (as socket.io's own test/socket.io.test-d.ts): checked by
 * `tsc --noEmit` in `npm run typecheck`, never run. The payload and reply types are inferred from the zod schemas
 * in server/contracts/, so a schema change that alters what goes over the wire fails HERE, on purpose: update the
 * pinned shape below, the clients (client-demo, load/) and the docs together, or undo the change.
 */
import type { z } from 'zod';
import type {
  Ack,
  BookingView,
  ClientToServerEvents,
  CompactSeatsChanged,
  CompactSeatsSnapshot,
  GaHoldView,
  HandshakeAuth,
  HoldView,
  SeatState,
  ServerToClientEvents,
  WaitlistEntryView,
} from '../../server/contracts';
import type { acceptPayload, entryPayload, joinBody } from '../../server/contracts/waitlist';
import type { extendPayload, holdBody, socketReleasePayload, syncPayload, bestBody } from '../../server/contracts/seats';
import type { socketConfirmPayload } from '../../server/contracts/bookings';
import type { gaHoldBody } from '../../server/contracts/ga';
import type { IoServer } from '../../server/realtime/types';

/** True only when X and Y are the same type (not merely assignable either way). */
type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
/** Flattens intersections and zod's inferred objects into one plain object type, so Equal compares shapes. */
type Plain<T> = T extends (infer U)[] ? Plain<U>[] : T extends object ? { [K in keyof T]: Plain<T[K]> } : T;
type Same<X, Y> = Equal<Plain<X>, Plain<Y>>;
const pin = <T extends true>(): T | undefined => undefined;

type Payload<E extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[E]>[0];
type Reply<E extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[E]>[1] extends (reply: Ack<infer T>) => void ? T : never;
type Emitted<E extends keyof ServerToClientEvents> = Parameters<ServerToClientEvents[E]>[0];

// ---- the event names: adding, renaming or dropping one is a protocol change ----
pin<Equal<keyof ClientToServerEvents,
  | 'seat:hold' | 'seat:release' | 'hold:extend' | 'booking:confirm' | 'seats:sync' | 'auth:refresh' | 'seat:best'
  | 'waitlist:join' | 'waitlist:status' | 'waitlist:accept' | 'waitlist:decline' | 'waitlist:leave' | 'ga:hold'
  | 'queue:join' | 'queue:status' | 'queue:leave'>>();
pin<Equal<keyof ServerToClientEvents,
  | 'seats:snapshot' | 'seats:changed' | 'seats:snapshot:compact' | 'seats:changed:compact' | 'hold:expired'
  | 'server:reconnect' | 'waitlist:offer' | 'ga:changed' | 'event:status' | 'booking:cancelled'
  | 'queue:progress' | 'queue:admitted'>>();

// ---- what clients send ----
pin<Same<Payload<'seat:hold'>, { seatIds: number[]; holdToken?: string }>>();
pin<Same<Payload<'seat:release'>, { holdToken: string; seatIds?: number[] }>>();
pin<Same<Payload<'hold:extend'>, { holdToken: string }>>();
pin<Same<Payload<'booking:confirm'>, { holdToken: string; idempotencyKey: string }>>();
pin<Same<Payload<'seats:sync'>, { cursor?: number }>>();
pin<Same<Payload<'auth:refresh'>, { token: string }>>();
pin<Same<Payload<'seat:best'>, { quantity: number; category?: string; section?: string; accessible?: boolean; allowSplit?: boolean }>>();
pin<Same<Payload<'waitlist:join'>, { partySize: number; section?: string; category?: string; together?: boolean }>>();
pin<Same<Payload<'waitlist:status'>, Record<string, never>>>();
pin<Same<Payload<'waitlist:accept'>, { entryId: number; idempotencyKey: string }>>();
pin<Same<Payload<'waitlist:decline'>, { entryId: number }>>();
pin<Same<Payload<'waitlist:leave'>, { entryId: number }>>();
pin<Same<Payload<'ga:hold'>, { sectionId: number; quantity: number }>>();
// The waiting room's commands name nothing: a client cannot pick its place.
pin<Same<Payload<'queue:join'>, Record<string, never>>>();
pin<Same<HandshakeAuth, { token?: string; cursor?: number; format?: 'json' | 'compact' }>>();

// ---- the schemas the server validates those payloads with accept exactly what the map declares ----
pin<Same<z.input<typeof holdBody>, Payload<'seat:hold'>>>();
pin<Same<z.input<typeof socketReleasePayload>, Payload<'seat:release'>>>();
pin<Same<z.input<typeof extendPayload>, Payload<'hold:extend'>>>();
pin<Same<z.input<typeof socketConfirmPayload>, Payload<'booking:confirm'>>>();
pin<Same<z.input<typeof syncPayload>, Payload<'seats:sync'>>>();
pin<Same<z.input<typeof bestBody>, Payload<'seat:best'>>>();
pin<Same<z.input<typeof joinBody>, Payload<'waitlist:join'>>>();
pin<Same<z.input<typeof acceptPayload>, Payload<'waitlist:accept'>>>();
pin<Same<z.input<typeof entryPayload>, Payload<'waitlist:leave'>>>();
pin<Same<z.input<typeof gaHoldBody>, Payload<'ga:hold'>>>();

// ---- what the server answers and emits ----
type PinnedSeat = { id: number; status: 'available' | 'held' | 'booked' | 'blocked'; version: number; expiresAt?: string };
type PinnedHold = { holdToken: string; eventId: number; expiresAt: string; maxExpiresAt: string; seats: PinnedSeat[] };
pin<Same<HoldView, PinnedHold>>();
pin<Same<Reply<'seat:hold'>, PinnedHold>>();
pin<Same<Reply<'seat:release'>, PinnedHold | { released: number[] }>>();
pin<Same<Reply<'booking:confirm'>, BookingView>>();
pin<Same<Reply<'waitlist:status'>, WaitlistEntryView | null>>();
pin<Same<Reply<'ga:hold'>, GaHoldView>>();
pin<Same<Reply<'seats:sync'>, { mode: 'changes' | 'snapshot' }>>();
pin<Same<Reply<'auth:refresh'>, { expiresAt: string }>>();
pin<Same<SeatState, PinnedSeat & { holder?: { userId: number; name: string; email: string }; holdToken?: string }>>();
pin<Same<Emitted<'seats:changed'>, { eventId: number; cursor: number; seats: SeatState[] }>>();
pin<Same<Emitted<'seats:snapshot'>, Emitted<'seats:changed'>>>();
pin<Same<Emitted<'hold:expired'>, { eventId: number; holdToken: string; seatIds: number[]; reason?: string }>>();
pin<Same<Emitted<'event:status'>, { eventId: number; status: 'draft' | 'on_sale' | 'closed' | 'cancelled'; reason?: string }>>();
pin<Same<Emitted<'booking:cancelled'>, { eventId: number; bookingId: number; reference: string; reason: string }>>();
pin<Same<Emitted<'ga:changed'>, { eventId: number; areas: { sectionId: number; available: number; version: number }[] }>>();
pin<Same<Emitted<'seats:snapshot:compact'>, CompactSeatsSnapshot>>();
pin<Same<Emitted<'seats:changed:compact'>, CompactSeatsChanged>>();
pin<Same<keyof CompactSeatsChanged, 'eventId' | 'cursor' | 'layoutVersion' | 'count' | 'indexes' | 'status' | 'versions' | 'expiresBase' | 'expiresAt'>>();

// ---- the typed server: emitting an undeclared event or a wrong payload does not compile ----
declare const io: IoServer;
io.of('/events/1').emit('event:status', { eventId: 1, status: 'on_sale' });
// @ts-expect-error not an event of the map
io.of('/events/1').emit('seats:moved', {});
// @ts-expect-error `seats` is required
io.of('/events/1').emit('seats:changed', { eventId: 1, cursor: 2 });
