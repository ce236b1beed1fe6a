/**
 * Type-level test (checked by `npm run typecheck`, never run): the runtime table of the socket protocol
 * (server/contracts/socket-catalog.ts), which the AsyncAPI document is generated from, names exactly the events
 * of the typed event map, and each entry's schemas accept and produce exactly the map's payload and answer types.
 * So /asyncapi.json cannot document a command, payload or answer the server and clients do not compile against.
 */
import type { z } from 'zod';
import type { Ack, ClientToServerEvents, ServerToClientEvents } from '../../server/contracts';
import { serverEvents, socketCommands } from '../../server/contracts/socket-catalog';

type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
type Plain<T> = T extends (infer U)[] ? Plain<U>[] : T extends object ? { [K in keyof T]: Plain<T[K]> } : T;
type Same<X, Y> = Equal<Plain<X>, Plain<Y>>;
const pin = <T extends true>(): T | undefined => undefined;

type Payload<E extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[E]>[0];
type Reply<E extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[E]>[1] extends (reply: Ack<infer T>) => void ? T : never;
type Emitted<E extends keyof ServerToClientEvents> = Parameters<ServerToClientEvents[E]>[0];

type Commands = typeof socketCommands;
type Events = typeof serverEvents;

/** The names of the commands whose table entry disagrees with the event map (never, when all agree). */
type PayloadDrift = { [E in keyof Commands & keyof ClientToServerEvents]: Same<z.input<Commands[E]['payload']>, Payload<E>> extends true ? never : E }[keyof Commands];
type AckDrift = { [E in keyof Commands & keyof ClientToServerEvents]: Same<z.output<Commands[E]['ack']>, Reply<E>> extends true ? never : E }[keyof Commands];
type EventDrift = { [E in keyof Events & keyof ServerToClientEvents]: Same<z.output<Events[E]['payload']>, Emitted<E>> extends true ? never : E }[keyof Events];

// ---- the same names, both ways ----
pin<Equal<keyof Commands, keyof ClientToServerEvents>>();
pin<Equal<keyof Events, keyof ServerToClientEvents>>();
// ---- the same types, entry by entry (a failure names the drifting event in the error) ----
pin<Equal<PayloadDrift, never>>();
pin<Equal<AckDrift, never>>();
pin<Equal<EventDrift, never>>();

// ---- the check can fail: a table whose `seat:hold` answers a booking is caught ----
type Broken = Omit<Commands, 'seat:hold'> & { 'seat:hold': { payload: Commands['seat:hold']['payload']; ack: Commands['booking:confirm']['ack'] } };
type BrokenDrift = { [E in keyof Broken & keyof ClientToServerEvents]: Same<z.output<Broken[E]['ack']>, Reply<E>> extends true ? never : E }[keyof Broken];
pin<Equal<BrokenDrift, 'seat:hold'>>();
