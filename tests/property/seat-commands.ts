/** The commands of the seat state machine: each runs against the server and checks the reply the model predicts. */
import { actorOf } from '../helpers/env';
import { compare, deadHoldCode, expectHold, expectReply, free, live, now, rest, setSeat, sock, TTL_S, type Cmd, type MBooking, type MHold, type Model, type Real, type Reply } from './seat-model';

export class HoldCmd implements Cmd {
  constructor(readonly user: number, readonly seatIdx: number[], readonly viaSocket: boolean) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const seatIds = this.seatIdx.map((i) => r.ev.seatIds[i]!);
    const u = r.users[this.user]!;
    const t = now(r);
    const got = this.viaSocket ? await sock(r.sockets[this.user]!, 'seat:hold', { seatIds }) : await rest(r, 'POST', `/api/events/${r.ev.eventId}/holds`, u.token, { seatIds });
    expectHold(m, this.user, seatIds, got, this.toString(), t);
    await compare(m, r, this.toString());
  }
  toString = () => `hold(u${this.user}, ${this.seatIdx}${this.viaSocket ? ', socket' : ''})`;
}

/**
 * Several holds sent at once, so the group commit decides them together (the first alone, the rest in one batch).
 * A batch decides in arrival order, each command as if alone: the model predicts them one by one, in order.
 */
export class BurstCmd implements Cmd {
  constructor(readonly holds: [number, number[]][]) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const inv = r.env.nodes[0]!.services.inventory;
    const t = now(r);
    const asked = this.holds.map(([user, idx]) => ({ user, seatIds: idx.map((i) => r.ev.seatIds[i]!) }));
    const settled = await Promise.allSettled(asked.map((a) => inv.hold(actorOf(r.users[a.user]!), r.ev.eventId, { seatIds: a.seatIds })));
    settled.forEach((out, i) => {
      const got: Reply =
        out.status === 'fulfilled'
          ? { ok: true, status: 201, data: { holdToken: out.value.hold.token } }
          : { ok: false, status: 0, code: (out.reason as { code?: string }).code ?? String(out.reason), details: (out.reason as { details?: unknown }).details };
      expectHold(m, asked[i]!.user, asked[i]!.seatIds, got, `${this}[${i}]`, t);
    });
    await compare(m, r, this.toString());
  }
  toString = () => `burst(${this.holds.map(([u, s]) => `u${u}:${s}`).join(' ')})`;
}

export class ReleaseCmd implements Cmd {
  constructor(readonly holdIdx: number, readonly stranger: boolean, readonly some: boolean, readonly viaSocket: boolean) {}
  user = 0;
  check = (m: Readonly<Model>) => m.holds.length > 0;
  async run(m: Model, r: Real) {
    const h = m.holds[this.holdIdx % m.holds.length]!;
    this.user = this.stranger ? 1 - h.user : h.user;
    const seatIds = this.some && h.seats.size > 1 ? [[...h.seats][0]!] : undefined;
    const token = r.users[this.user]!.token;
    const got = this.viaSocket
      ? await sock(r.sockets[this.user]!, 'seat:release', seatIds ? { holdToken: h.token, seatIds } : { holdToken: h.token })
      : await rest(r, 'DELETE', `/api/holds/${h.token}`, token, seatIds ? { seatIds } : undefined);
    if (h.user !== this.user) return expectReply(got, { code: 'FORBIDDEN' }, this.toString());
    if (!live(h, now(r))) return expectReply(got, { code: deadHoldCode(h) }, this.toString());
    expectReply(got, { ok: true }, this.toString());
    const freed = seatIds ?? [...h.seats];
    for (const id of freed) setSeat(m, id, { status: 'available' });
    if (h.seats.size === 0) h.status = 'released';
    await compare(m, r, this.toString());
  }
  toString = () => `release(h${this.holdIdx}, ${this.stranger ? 'stranger' : 'owner'}${this.some ? ', some' : ''})`;
}

export class ExtendCmd implements Cmd {
  constructor(readonly holdIdx: number, readonly stranger: boolean) {}
  user = 0;
  check = (m: Readonly<Model>) => m.holds.length > 0;
  async run(m: Model, r: Real) {
    const h = m.holds[this.holdIdx % m.holds.length]!;
    this.user = this.stranger ? 1 - h.user : h.user;
    const got = await rest(r, 'POST', `/api/holds/${h.token}/extend`, r.users[this.user]!.token);
    const t = now(r);
    if (h.user !== this.user) return expectReply(got, { code: 'FORBIDDEN' }, this.toString());
    if (!live(h, t)) return expectReply(got, { code: deadHoldCode(h) }, this.toString());
    const next = Math.min(t + TTL_S * 1000, h.maxExpiresAt);
    if (next <= h.expiresAt) return expectReply(got, { code: 'HOLD_MAX_LIFE' }, this.toString());
    expectReply(got, { ok: true }, this.toString());
    h.expiresAt = next;
    await compare(m, r, this.toString());
  }
  toString = () => `extend(h${this.holdIdx}, ${this.stranger ? 'stranger' : 'owner'})`;
}

export class BookCmd implements Cmd {
  constructor(readonly holdIdx: number, readonly stranger: boolean, readonly viaSocket: boolean) {}
  user = 0;
  check = (m: Readonly<Model>) => m.holds.length > 0;
  async run(m: Model, r: Real) {
    const h = m.holds[this.holdIdx % m.holds.length]!;
    this.user = this.stranger ? 1 - h.user : h.user;
    const key = `prop-${r.ev.eventId}-${r.keys++}`;
    const u = r.users[this.user]!;
    const got = this.viaSocket
      ? await sock(r.sockets[this.user]!, 'booking:confirm', { holdToken: h.token, idempotencyKey: key })
      : await rest(r, 'POST', '/api/bookings', u.token, { holdToken: h.token }, { 'Idempotency-Key': key });
    if (h.user !== this.user) return expectReply(got, { code: 'FORBIDDEN' }, this.toString());
    if (!live(h, now(r))) return expectReply(got, { code: deadHoldCode(h) }, this.toString());
    expectReply(got, { ok: true }, this.toString());
    const b: MBooking = { id: got.data.id, user: this.user, seats: [...h.seats].sort((a, c) => a - c), status: 'confirmed' };
    if (JSON.stringify(got.data.seats.map((s: { seatId: number }) => s.seatId).sort((a: number, c: number) => a - c)) !== JSON.stringify(b.seats)) {
      throw new Error(`${this}: booked seats ${JSON.stringify(got.data.seats)} differ from the hold's ${b.seats}`);
    }
    m.bookings.push(b);
    h.status = 'booked';
    for (const id of b.seats) setSeat(m, id, { status: 'booked', booking: b });
    await compare(m, r, this.toString());
  }
  toString = () => `book(h${this.holdIdx}, ${this.stranger ? 'stranger' : 'owner'}${this.viaSocket ? ', socket' : ''})`;
}

export class CancelCmd implements Cmd {
  constructor(readonly bookingIdx: number, readonly stranger: boolean) {}
  user = 0;
  check = (m: Readonly<Model>) => m.bookings.length > 0;
  async run(m: Model, r: Real) {
    const b = m.bookings[this.bookingIdx % m.bookings.length]!;
    this.user = this.stranger ? 1 - b.user : b.user;
    const got = await rest(r, 'DELETE', `/api/bookings/${b.id}`, r.users[this.user]!.token);
    if (b.user !== this.user) return expectReply(got, { code: 'BOOKING_NOT_FOUND' }, this.toString());
    if (b.status === 'cancelled') return expectReply(got, { code: 'BOOKING_ALREADY_CANCELLED' }, this.toString());
    expectReply(got, { ok: true }, this.toString());
    b.status = 'cancelled';
    for (const id of b.seats) setSeat(m, id, { status: 'available' });
    await compare(m, r, this.toString());
  }
  toString = () => `cancel(b${this.bookingIdx}, ${this.stranger ? 'stranger' : 'owner'})`;
}

export class BlockCmd implements Cmd {
  constructor(readonly seatIdx: number[]) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const seatIds = this.seatIdx.map((i) => r.ev.seatIds[i]!);
    const got = await rest(r, 'POST', `/api/admin/events/${r.ev.eventId}/seats/block`, r.admin.token, { seatIds });
    const t = now(r);
    const taken = seatIds.filter((id) => m.seats.get(id)!.status !== 'blocked' && !free(m, id, t)).sort((a, b) => a - b);
    if (taken.length) return expectReply(got, { code: 'SEAT_UNAVAILABLE', seatIds: taken }, this.toString());
    expectReply(got, { ok: true }, this.toString());
    for (const id of seatIds) setSeat(m, id, { status: 'blocked' });
    await compare(m, r, this.toString());
  }
  toString = () => `block(${this.seatIdx})`;
}

export class UnblockCmd implements Cmd {
  constructor(readonly seatIdx: number[]) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const seatIds = this.seatIdx.map((i) => r.ev.seatIds[i]!);
    const got = await rest(r, 'POST', `/api/admin/events/${r.ev.eventId}/seats/unblock`, r.admin.token, { seatIds });
    const notBlocked = seatIds.filter((id) => m.seats.get(id)!.status !== 'blocked').sort((a, b) => a - b);
    if (notBlocked.length) return expectReply(got, { code: 'SEAT_NOT_BLOCKED', seatIds: notBlocked }, this.toString());
    expectReply(got, { ok: true }, this.toString());
    for (const id of seatIds) setSeat(m, id, { status: 'available' });
    await compare(m, r, this.toString());
  }
  toString = () => `unblock(${this.seatIdx})`;
}

interface EntryRow {
  id: number;
  user_id: number;
  status: string;
  offer_hold_id: number | null;
}
const entries = async (r: Real): Promise<EntryRow[]> =>
  r.env.db('waitlist_entries').where({ event_id: r.ev.eventId }).orderBy('id').select('id', 'user_id', 'status', 'offer_hold_id');
const offerHold = async (m: Model, r: Real, e: EntryRow): Promise<MHold | undefined> => {
  if (!e.offer_hold_id) return undefined;
  const row = await r.env.db('holds').where({ id: e.offer_hold_id }).first('token');
  return m.holds.find((h) => h.token === row?.token);
};

/** Join the waitlist: one active (waiting or offered) entry per user and event. */
export class JoinCmd implements Cmd {
  constructor(readonly user: number, readonly partySize: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const active = (await entries(r)).some((e) => e.user_id === r.users[this.user]!.id && (e.status === 'waiting' || e.status === 'offered'));
    const got = await rest(r, 'POST', `/api/events/${r.ev.eventId}/waitlist`, r.users[this.user]!.token, { partySize: this.partySize });
    expectReply(got, active ? { code: 'WAITLIST_ALREADY_JOINED' } : { ok: true }, this.toString());
    await compare(m, r, this.toString());
  }
  toString = () => `waitlist-join(u${this.user}, ${this.partySize})`;
}

/** Accept, decline or leave one of the event's entries, as its owner. */
export class EntryCmd implements Cmd {
  constructor(readonly action: 'accept' | 'decline' | 'leave', readonly entryIdx: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const all = await entries(r);
    if (!all.length) return;
    const e = all[this.entryIdx % all.length]!;
    const user = r.users.findIndex((u) => u.id === e.user_id);
    const token = r.users[user]!.token;
    const h = await offerHold(m, r, e);
    const t = now(r);
    if (this.action === 'accept') {
      const got = await rest(r, 'POST', `/api/waitlist/${e.id}/accept`, token, undefined, { 'Idempotency-Key': `waitlist-${r.ev.eventId}-${r.keys++}` });
      if (e.status !== 'offered' || !h || !live(h, t)) {
        if (got.ok) throw new Error(`${this}: accepted an entry that is ${e.status} (offer ${h ? (live(h, t) ? 'live' : h.status) : 'none'})`);
        expectReply(got, { code: got.code! }, this.toString());
      } else {
        expectReply(got, { ok: true }, this.toString());
        const b: MBooking = { id: got.data.id, user, seats: [...h.seats].sort((a, c) => a - c), status: 'confirmed' };
        m.bookings.push(b);
        h.status = 'booked';
        for (const id of b.seats) setSeat(m, id, { status: 'booked', booking: b });
      }
    } else {
      const got = this.action === 'decline' ? await rest(r, 'POST', `/api/waitlist/${e.id}/decline`, token) : await rest(r, 'DELETE', `/api/waitlist/${e.id}`, token);
      const allowed = this.action === 'decline' ? e.status === 'offered' : e.status === 'waiting' || e.status === 'offered';
      if (!allowed) {
        if (got.ok) throw new Error(`${this}: ${this.action} of an entry that is ${e.status}`);
        expectReply(got, { code: got.code! }, this.toString());
      } else {
        expectReply(got, { ok: true }, this.toString());
        // An open offer is given back: its hold is released (even if it lapsed and is not swept yet).
        if (e.status === 'offered' && h && h.status === 'active') {
          for (const id of [...h.seats]) setSeat(m, id, { status: 'available' });
          h.status = 'released';
        }
      }
    }
    await compare(m, r, this.toString());
  }
  toString = () => `waitlist-${this.action}(e${this.entryIdx})`;
}

/** Time passes, then a sweep: lapsed holds give their seats back (by the database's record of expiry). */
export class TickCmd implements Cmd {
  constructor(readonly seconds: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    r.env.clock.advance(this.seconds * 1000);
    await r.env.nodes[0]!.sweep();
    const t = now(r);
    for (const h of m.holds) {
      if (h.status === 'active' && h.expiresAt <= t) {
        for (const id of [...h.seats]) setSeat(m, id, { status: 'available' });
        h.status = 'expired';
      }
    }
    await compare(m, r, this.toString());
  }
  toString = () => `tick(${this.seconds}s)`;
}
