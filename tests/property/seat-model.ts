/** The in-memory model of one event's seats that tests/property/seat-machine.test.ts checks the server against, and its checks. */
import fc from 'fast-check';
import type { SeededEvent, TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { send, type Watcher } from '../helpers/sockets';

export const SEATS = 6;
export const TTL_S = 60;
export const MAX_LIFE_S = 1800;

export type Status = 'available' | 'held' | 'booked' | 'blocked';
export interface MHold {
  token: string;
  user: number;
  seats: Set<number>;
  expiresAt: number;
  maxExpiresAt: number;
  status: 'active' | 'released' | 'booked' | 'expired';
}
export interface MBooking {
  id: number;
  user: number;
  seats: number[];
  status: 'confirmed' | 'cancelled';
}
export interface Model {
  seats: Map<number, { status: Status; hold?: MHold; booking?: MBooking }>;
  holds: MHold[];
  bookings: MBooking[];
}
export interface Real {
  env: TestEnv;
  ev: SeededEvent;
  /** With their emails: bursts call the inventory as these users directly, to control arrival order. */
  users: { id: number; token: string; email: string }[];
  admin: { token: string };
  sockets: Watcher[];
  keys: number;
  /** Replies seen, by command and outcome (the test checks the runs reached every kind). */
  stats: Map<string, number>;
}

export interface Reply {
  ok: boolean;
  status: number;
  code?: string;
  details?: any;
  data?: any;
}

/** One call over REST or the socket, normalised to one reply shape. */
export async function rest(r: Real, method: string, path: string, token: string, body?: unknown, headers?: Record<string, string>): Promise<Reply> {
  const res = await http(r.env.nodes[0]!.url, method, path, { token, body, headers });
  if (res.status >= 500) throw new Error(`5xx from ${method} ${path}: ${JSON.stringify(res.body)}`);
  return res.status < 300 ? { ok: true, status: res.status, data: res.body } : { ok: false, status: res.status, code: res.body.error.code, details: res.body.error.details };
}
export async function sock(w: Watcher, event: string, payload: unknown): Promise<Reply> {
  const a = (await send(w.socket, event as any, payload as any)) as any;
  if (!a.ok && a.error.code === 'INTERNAL') throw new Error(`INTERNAL from ${event}`);
  return a.ok ? { ok: true, status: 200, data: a.data } : { ok: false, status: 0, code: a.error.code, details: a.error.details };
}

export const now = (r: Real) => r.env.clock.now();
export const live = (h: MHold, t: number) => h.status === 'active' && h.expiresAt > t;
export const free = (m: Model, seatId: number, t: number) => {
  const s = m.seats.get(seatId)!;
  return s.status === 'available' || (s.status === 'held' && !live(s.hold!, t));
};
/** The error a hold-scoped action gets for a hold that is not live, by the hold's record. */
export const deadHoldCode = (h: MHold) => (h.status === 'booked' ? 'HOLD_ALREADY_BOOKED' : h.status === 'released' ? 'HOLD_RELEASED' : 'HOLD_EXPIRED');
export const setSeat = (m: Model, seatId: number, v: { status: Status; hold?: MHold; booking?: MBooking }) => {
  const prev = m.seats.get(seatId)!;
  if (prev.hold && prev.hold !== v.hold) prev.hold.seats.delete(seatId);
  m.seats.set(seatId, v);
  if (v.hold) v.hold.seats.add(seatId);
};

/** Replies seen, by command and outcome (printed after a run; the test clears it before). */
export const stats = new Map<string, number>();
export function expectReply(got: Reply, want: { ok: true } | { code: string; seatIds?: number[] }, what: string): void {
  const key = `${what.replace(/\(.*$/, '')} ${got.ok ? 'ok' : got.code}`;
  stats.set(key, (stats.get(key) ?? 0) + 1);
  if ('ok' in want) {
    if (!got.ok) throw new Error(`${what}: expected success, got ${got.code} ${JSON.stringify(got.details)}`);
    return;
  }
  if (got.ok) throw new Error(`${what}: expected ${want.code}, got success`);
  if (got.code !== want.code) throw new Error(`${what}: expected ${want.code}, got ${got.code}`);
  if (want.seatIds && JSON.stringify(got.details?.seatIds) !== JSON.stringify(want.seatIds)) throw new Error(`${what}: expected seats ${want.seatIds}, got ${JSON.stringify(got.details)}`);
}

/**
 * Waitlist offers are made by the server on its own after seats are freed (a matching pass per event,
 * queued after the commit). Wait for the passes, then learn the offers they made: an offer may only take
 * seats the model says are free, and becomes a hold in the entry owner's name that cannot be extended.
 */
export async function settleWaitlist(m: Model, r: Real): Promise<void> {
  await r.env.nodes[0]!.services.waitlist.idle();
  const offers = await r.env.db('holds').where({ event_id: r.ev.eventId, source: 'waitlist', status: 'active' }).select('id', 'token', 'user_id', 'expires_at', 'max_expires_at');
  for (const o of offers) {
    if (m.holds.some((h) => h.token === o.token)) continue;
    const user = r.users.findIndex((u) => u.id === o.user_id);
    if (user < 0) throw new Error(`offer ${o.token} to a user outside the test`);
    const seats = (await r.env.db('event_seats').where({ event_id: r.ev.eventId, hold_id: o.id, status: 'held' }).select('seat_id')).map((x) => x.seat_id as number);
    const t = now(r);
    for (const id of seats) if (!free(m, id, t)) throw new Error(`waitlist offered seat ${id}, which the model has ${m.seats.get(id)!.status}`);
    const h: MHold = { token: o.token, user, seats: new Set(), expiresAt: Number(o.expires_at), maxExpiresAt: Number(o.max_expires_at), status: 'active' };
    m.holds.push(h);
    for (const id of seats) setSeat(m, id, { status: 'held', hold: h });
    r.stats.set('waitlist offer', (r.stats.get('waitlist offer') ?? 0) + 1);
  }
}

/** After every command: each seat's status in the database is what the model says (a lapsed hold may not be swept yet). */
export async function compare(m: Model, r: Real, what: string): Promise<void> {
  await settleWaitlist(m, r);
  const rows = await r.env.db('event_seats').where({ event_id: r.ev.eventId }).select('seat_id', 'status', 'hold_id');
  const t = now(r);
  for (const row of rows) {
    const s = m.seats.get(row.seat_id)!;
    if (row.status !== s.status) throw new Error(`after ${what}: seat ${row.seat_id} is ${row.status} in the database, ${s.status} in the model (now ${t})`);
  }
}

export type Cmd = fc.AsyncCommand<Model, Real>;
export const pickSeats = fc.uniqueArray(fc.integer({ min: 0, max: SEATS - 1 }), { minLength: 1, maxLength: 3 });

/**
 * What a hold of `seatIds` by `user` must answer at time `t` (the per-user limit before availability: docs/DESIGN.md),
 * checked against `got`; on success the model takes the hold. Shared by single holds and bursts.
 */
export function expectHold(m: Model, user: number, seatIds: number[], got: Reply, what: string, t: number): void {
  const heldByUser = [...m.seats.values()].filter((s) => s.status === 'held' && s.hold!.user === user && live(s.hold!, t)).length;
  if (heldByUser + seatIds.length > SEATS) return expectReply(got, { code: 'HOLD_LIMIT_REACHED' }, what);
  const taken = seatIds.filter((id) => !free(m, id, t)).sort((a, b) => a - b);
  if (taken.length) return expectReply(got, { code: 'SEAT_UNAVAILABLE', seatIds: taken }, what);
  expectReply(got, { ok: true }, what);
  const h: MHold = { token: got.data.holdToken, user, seats: new Set(), expiresAt: t + TTL_S * 1000, maxExpiresAt: t + MAX_LIFE_S * 1000, status: 'active' };
  m.holds.push(h);
  for (const id of seatIds) setSeat(m, id, { status: 'held', hold: h });
}
