import { isStaff, type AuthUser } from '../shared/auth-user';
import type { SeatStatus } from '../contracts';
import { AppError, ConflictError, ForbiddenError, NotFoundError, SeatUnavailableError, UnprocessableError } from '../shared/errors';
import { newOrderReference } from '../shared/ids';
import type { BookingRow, CommandOutcome, HoldOutcome, SeatCommand } from './commands';
import { assertLive, assertOnSale, ipHoldLimit, newHoldRow, type EventRules, type HoldRow } from './hold-rules';
import type { BatchPlan, BatchState, Transition, WorkingSeat } from './batch-plan';
import { isSeatFree, toSeatState } from './seat-store';

/**
 * Decides a batch of seat commands in memory, in arrival order, each all-or-nothing and answered exactly as
 * if it had run alone against the state the commands before it left. The checks follow the precedence in
 * docs/DESIGN.md ("Which error wins"). Pure: reads `state`, mutates only its own working copies.
 */
export function decideBatch(state: BatchState, commands: SeatCommand[]): BatchPlan {
  return new Decider(state).run(commands);
}

class Decider {
  private nextRef = -1;
  private readonly work = new Map<number, WorkingSeat>();
  private readonly plan: BatchPlan = {
    results: [],
    newHolds: [],
    newBookings: [],
    transitions: [],
    touched: new Map(),
    changedHolds: new Map(),
    bookingSeats: [],
    extrasClosed: [],
    extrasBooked: [],
    freed: [],
  };

  constructor(private readonly state: BatchState) {
    for (const [id, s] of state.seats) this.work.set(id, { ...s, readVersion: s.version });
  }

  run(commands: SeatCommand[]): BatchPlan {
    for (const cmd of commands) {
      try {
        this.plan.results.push({ ok: true, value: this.decide(cmd) });
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        this.plan.results.push({ ok: false, error: err });
      }
    }
    return this.plan;
  }

  private decide(cmd: SeatCommand): CommandOutcome {
    switch (cmd.kind) {
      case 'hold':
        return this.hold(cmd);
      case 'release':
        return this.release(cmd);
      case 'extend':
        return this.extend(cmd);
      case 'book':
        return this.book(cmd);
      case 'expire':
        return this.expire(cmd);
    }
  }

  private event(): EventRules {
    const ev = this.state.event;
    if (!ev || ev.status === 'draft') throw new NotFoundError('Event', 'EVENT_NOT_FOUND');
    return ev;
  }

  /** A hold the actor may act on (owner or staff: invariant 5), by token. */
  private holdFor(actor: AuthUser, token: string): HoldRow {
    const hold = this.state.holdsByToken.get(token);
    if (!hold) throw new NotFoundError('Hold', 'HOLD_NOT_FOUND');
    if (hold.user_id !== actor.id && !isStaff(actor)) throw new ForbiddenError('This hold belongs to someone else');
    return hold;
  }

  private seatsOf(hold: HoldRow): WorkingSeat[] {
    return [...this.work.values()].filter((s) => s.hold_id === hold.id && s.status === 'held').sort((a, b) => a.seat_id - b.seat_id);
  }

  private view(hold: HoldRow, seats: WorkingSeat[] = this.seatsOf(hold)): HoldOutcome {
    return { hold, seats: seats.map(toSeatState) };
  }

  /** Keeps the per-user and per-IP counts true as the batch moves seats of `hold` (a live hold). */
  private adjustHeld(hold: Pick<HoldRow, 'user_id' | 'client_ip'>, delta: number): void {
    const n = this.state.heldByUser.get(hold.user_id);
    if (n !== undefined) this.state.heldByUser.set(hold.user_id, n + delta);
    const ip = hold.client_ip;
    const m = ip === null ? undefined : this.state.heldByIp.get(ip);
    if (ip !== null && m !== undefined) this.state.heldByIp.set(ip, m + delta);
  }

  private move(seat: WorkingSeat, to: SeatStatus, link: { holdId?: number; expiresAt?: number; bookingId?: number }, actorId: number | null, reason: string): void {
    const t: Transition = {
      seatId: seat.seat_id,
      from: seat.status,
      to,
      version: seat.version + 1,
      holdId: link.holdId ?? null,
      bookingId: link.bookingId ?? null,
      holdExpiresAt: link.expiresAt ?? null,
      actorId,
      reason,
    };
    this.plan.transitions.push(t);
    seat.status = to;
    seat.version = t.version;
    seat.hold_id = t.holdId;
    seat.hold_expires_at = t.holdExpiresAt;
    seat.booking_id = t.bookingId;
    this.plan.touched.set(seat.seat_id, seat);
  }

  private changed(hold: HoldRow): void {
    if (hold.id > 0) this.plan.changedHolds.set(hold.id, hold);
  }

  private hold(cmd: Extract<SeatCommand, { kind: 'hold' }>): CommandOutcome {
    const { actor, seatIds } = cmd;
    const now = this.state.now;
    const ev = this.event();
    assertOnSale(ev);
    let hold: HoldRow | undefined;
    if (cmd.holdToken) {
      hold = this.holdFor(actor, cmd.holdToken);
      assertLive(hold, now);
      if (hold.event_id !== this.state.eventId) throw new UnprocessableError('HOLD_OTHER_EVENT', 'That hold belongs to another event');
    }
    const missing = seatIds.filter((id) => !this.work.has(id));
    if (missing.length) throw new NotFoundError('Seat', 'SEAT_NOT_FOUND', { seatIds: missing });
    const inThisHold = hold ? this.seatsOf(hold).length : 0;
    if (inThisHold + seatIds.length > ev.max_seats_per_order) {
      throw new UnprocessableError('TOO_MANY_SEATS', `At most ${ev.max_seats_per_order} seats per order`, { max: ev.max_seats_per_order });
    }
    const holderId = hold?.user_id ?? actor.id;
    if (!isStaff(actor)) {
      const held = this.state.heldByUser.get(holderId) ?? 0;
      if (held + seatIds.length > ev.max_seats_per_user) {
        throw new UnprocessableError('HOLD_LIMIT_REACHED', `You can hold at most ${ev.max_seats_per_user} seats for this event`, { max: ev.max_seats_per_user, held });
      }
    }
    // One client, many accounts: the seats held from its address count too (staff exempt, 0 turns it off).
    if (!isStaff(actor) && cmd.clientIp && this.state.ipCap > 0) {
      const held = this.state.heldByIp.get(cmd.clientIp) ?? 0;
      if (held + seatIds.length > this.state.ipCap) throw ipHoldLimit(this.state.ipCap, held);
    }
    const taken = seatIds.filter((id) => !isSeatFree(this.work.get(id)!, now)).sort((a, b) => a - b);
    if (taken.length) throw new SeatUnavailableError(taken);

    const fresh = !hold;
    if (!hold) {
      hold = { ...newHoldRow(ev, actor.id, now, cmd.customer ? { source: 'box_office', customer: cmd.customer } : { clientIp: cmd.clientIp }), id: this.nextRef-- };
      this.plan.newHolds.push(hold);
      this.state.holdsByToken.set(hold.token, hold);
    }
    const seats = [...seatIds].sort((a, b) => a - b).map((id) => this.work.get(id)!);
    for (const s of seats) this.move(s, 'held', { holdId: hold.id, expiresAt: Number(hold.expires_at) }, actor.id, cmd.customer ? 'box_office_hold' : 'hold');
    this.adjustHeld(hold, seats.length);
    return { kind: 'hold', hold: fresh ? this.view(hold, seats) : this.view(hold) };
  }

  private release(cmd: Extract<SeatCommand, { kind: 'release' }>): CommandOutcome {
    const hold = this.holdFor(cmd.actor, cmd.holdToken);
    assertLive(hold, this.state.now);
    const seats = this.seatsOf(hold);
    let toFree = seats;
    if (cmd.seatIds) {
      const inHold = new Set(seats.map((s) => s.seat_id));
      const foreign = cmd.seatIds.filter((id) => !inHold.has(id));
      if (foreign.length) throw new ConflictError('SEAT_NOT_IN_HOLD', 'Some of these seats are not in this hold', { seatIds: foreign });
      const wanted = new Set(cmd.seatIds);
      toFree = seats.filter((s) => wanted.has(s.seat_id));
    }
    const remaining = seats.length - toFree.length;
    if (remaining === 0) {
      hold.status = 'released';
      this.changed(hold);
      if (this.state.extras.get(hold.id)?.count) this.plan.extrasClosed.push(hold.id);
    }
    const reason = hold.user_id === cmd.actor.id ? 'release' : 'force_release';
    for (const s of toFree) this.move(s, 'available', {}, cmd.actor.id, reason);
    this.adjustHeld(hold, -toFree.length);
    this.plan.freed.push(...toFree.map((s) => s.seat_id));
    const released = toFree.map((s) => s.seat_id);
    const view = remaining > 0 ? this.view(hold) : null;
    if (reason === 'force_release') return { kind: 'release', released, hold: view, forcedFrom: { userId: hold.user_id, holdToken: hold.token } };
    return { kind: 'release', released, hold: view };
  }

  private extend(cmd: Extract<SeatCommand, { kind: 'extend' }>): CommandOutcome {
    const now = this.state.now;
    const hold = this.holdFor(cmd.actor, cmd.holdToken);
    assertLive(hold, now);
    const ev = this.event();
    assertOnSale(ev);
    const expiresAt = Math.min(now + ev.hold_ttl_seconds * 1000, Number(hold.max_expires_at));
    if (expiresAt <= Number(hold.expires_at)) {
      throw new ConflictError('HOLD_MAX_LIFE', 'This hold cannot be extended any further', { maxExpiresAt: new Date(Number(hold.max_expires_at)).toISOString() });
    }
    hold.expires_at = expiresAt;
    this.changed(hold);
    const seats = this.seatsOf(hold);
    for (const s of seats) this.move(s, 'held', { holdId: hold.id, expiresAt }, cmd.actor.id, 'extend');
    return { kind: 'extend', hold: this.view(hold, seats) };
  }

  private book(cmd: Extract<SeatCommand, { kind: 'book' }>): CommandOutcome {
    const now = this.state.now;
    const hold = this.holdFor(cmd.actor, cmd.holdToken);
    const key = `${hold.user_id}:${cmd.idempotencyKey}`;
    const previous = this.state.previousBookings.get(key);
    if (previous) {
      if (previous.hold_id !== hold.id) throw new UnprocessableError('IDEMPOTENCY_KEY_REUSED', 'This idempotency key was already used for another hold');
      return { kind: 'book', booking: previous, replayed: true };
    }
    assertLive(hold, now);
    assertOnSale(this.event());
    const seats = this.seatsOf(hold);
    const extra = this.state.extras.get(hold.id) ?? { count: 0, totalCents: 0 };
    if (seats.length === 0 && extra.count === 0) throw new ConflictError('HOLD_EMPTY', 'This hold has no seats left to book');
    hold.status = 'booked';
    this.changed(hold);
    const booking: BookingRow = {
      id: this.nextRef--,
      reference: newOrderReference(),
      event_id: hold.event_id,
      user_id: hold.user_id,
      hold_id: hold.id,
      idempotency_key: cmd.idempotencyKey,
      customer_name: hold.customer_name,
      customer_email: hold.customer_email,
      status: 'confirmed',
      total_cents: seats.reduce((sum, s) => sum + s.price_cents, 0) + extra.totalCents,
      created_at: now,
      cancelled_at: null,
    };
    this.plan.newBookings.push(booking);
    this.state.previousBookings.set(key, booking);
    const reason = hold.user_id === cmd.actor.id ? 'book' : 'box_office_book';
    for (const s of seats) {
      this.plan.bookingSeats.push({ bookingId: booking.id, seatId: s.seat_id, priceCents: s.price_cents });
      this.move(s, 'booked', { bookingId: booking.id }, cmd.actor.id, reason);
    }
    if (extra.count) this.plan.extrasBooked.push({ holdId: hold.id, bookingId: booking.id });
    this.adjustHeld(hold, -seats.length);
    const booked = { seats: seats.map((s) => ({ seatId: s.seat_id, priceCents: s.price_cents })).sort((a, b) => a.seatId - b.seatId), gaTickets: extra.count };
    return { kind: 'book', booking, replayed: false, booked };
  }

  private expire(cmd: Extract<SeatCommand, { kind: 'expire' }>): CommandOutcome {
    const expired: { holdId: number; token: string; userId: number; seatIds: number[] }[] = [];
    for (const id of cmd.holdIds) {
      const hold = this.state.holdsById.get(id);
      // Gone meanwhile (booked, released, extended, or claimed by another node's sweep): nothing to do.
      if (!hold || hold.status !== 'active' || Number(hold.expires_at) > this.state.now) continue;
      hold.status = 'expired';
      this.changed(hold);
      if (this.state.extras.get(hold.id)?.count) this.plan.extrasClosed.push(hold.id);
      const seats = this.seatsOf(hold);
      for (const s of seats) this.move(s, 'available', {}, null, 'expire');
      this.plan.freed.push(...seats.map((s) => s.seat_id));
      expired.push({ holdId: hold.id, token: hold.token, userId: hold.user_id, seatIds: seats.map((s) => s.seat_id) });
    }
    return { kind: 'expire', expired };
  }
}
