import type { Db } from '../../server/db/knex';

/**
 * The database invariants every run must leave true, whatever happened: returns a list of violations
 * (empty when all hold), so a failing property prints what broke.
 */
export async function invariantViolations(db: Db, eventId: number): Promise<string[]> {
  const out: string[] = [];
  // 1. No seat in two confirmed bookings.
  const doubled = await db('booking_seats as bs')
    .join('bookings as b', 'b.id', 'bs.booking_id')
    .where('b.event_id', eventId)
    .andWhere('b.status', 'confirmed')
    .groupBy('bs.seat_id')
    .havingRaw('count(*) > 1')
    .select('bs.seat_id');
  if (doubled.length) out.push(`seats in two confirmed bookings: ${JSON.stringify(doubled)}`);

  // 2. event_seats agrees with holds and bookings.
  const seats = await db('event_seats').where({ event_id: eventId }).select('seat_id', 'status', 'version', 'hold_id', 'hold_expires_at', 'booking_id');
  const holds = new Map((await db('holds').where({ event_id: eventId }).select('id', 'status', 'expires_at')).map((h) => [Number(h.id), h]));
  const bookings = new Map((await db('bookings').where({ event_id: eventId }).select('id', 'status')).map((b) => [Number(b.id), b]));
  const bookedSeats = new Set(
    (await db('booking_seats as bs').join('bookings as b', 'b.id', 'bs.booking_id').where('b.event_id', eventId).andWhere('b.status', 'confirmed').select('bs.seat_id', 'bs.booking_id')).map(
      (r) => `${r.seat_id}:${r.booking_id}`,
    ),
  );
  for (const s of seats) {
    const tag = `seat ${s.seat_id} (${s.status})`;
    if (s.status === 'held') {
      const h = holds.get(Number(s.hold_id));
      if (!h) out.push(`${tag}: no hold row`);
      else if (h.status !== 'active') out.push(`${tag}: its hold is ${h.status}`);
      else if (Number(h.expires_at) !== Number(s.hold_expires_at)) out.push(`${tag}: expiry ${s.hold_expires_at} differs from its hold's ${h.expires_at}`);
      if (s.booking_id != null) out.push(`${tag}: has a booking id`);
    } else if (s.status === 'booked') {
      const b = bookings.get(Number(s.booking_id));
      if (!b || b.status !== 'confirmed') out.push(`${tag}: booking ${s.booking_id} is ${b?.status ?? 'missing'}`);
      if (!bookedSeats.has(`${s.seat_id}:${s.booking_id}`)) out.push(`${tag}: not among its booking's seats`);
      if (s.hold_id != null && holds.get(Number(s.hold_id))?.status === 'active') out.push(`${tag}: still points to an active hold`);
    } else {
      if (s.hold_id != null && holds.get(Number(s.hold_id))?.status === 'active') out.push(`${tag}: points to an active hold`);
      if (s.booking_id != null) out.push(`${tag}: has a booking id`);
    }
  }
  for (const key of bookedSeats) {
    const [seatId, bookingId] = key.split(':').map(Number);
    const s = seats.find((x) => x.seat_id === seatId);
    if (!s || s.status !== 'booked' || Number(s.booking_id) !== bookingId) out.push(`confirmed booking ${bookingId} lists seat ${seatId}, which is ${s?.status}/${s?.booking_id}`);
  }

  // 3. seat_changes: versions strictly increase per seat in id order, and the last one is the seat's version.
  const changes = await db('seat_changes').where({ event_id: eventId }).orderBy('id').select('seat_id', 'version', 'from_status', 'to_status');
  const last = new Map<number, { version: number; to: string }>();
  for (const c of changes) {
    const prev = last.get(c.seat_id);
    if (prev && !(c.version > prev.version)) out.push(`seat ${c.seat_id}: change version ${c.version} after ${prev.version}`);
    if (prev && prev.to !== c.from_status) out.push(`seat ${c.seat_id}: change from ${c.from_status} after a change to ${prev.to}`);
    last.set(c.seat_id, { version: c.version, to: c.to_status });
  }
  for (const s of seats) {
    const l = last.get(s.seat_id);
    if (l && (l.version !== s.version || l.to !== s.status)) out.push(`seat ${s.seat_id}: is ${s.status}@${s.version} but its last change says ${l.to}@${l.version}`);
  }

  // 4. Waitlist: one active entry per user; an offered entry's hold is a waitlist hold in the same user's
  //    name; an active waitlist hold belongs to an offered entry.
  if (await db.schema.hasTable('waitlist_entries')) {
    const entries = await db('waitlist_entries').where({ event_id: eventId }).select('id', 'user_id', 'status', 'offer_hold_id');
    const activePerUser = new Map<number, number>();
    for (const e of entries) if (e.status === 'waiting' || e.status === 'offered') activePerUser.set(e.user_id, (activePerUser.get(e.user_id) ?? 0) + 1);
    for (const [user, n] of activePerUser) if (n > 1) out.push(`user ${user} has ${n} active waitlist entries`);
    const allHolds = new Map((await db('holds').where({ event_id: eventId }).select('id', 'user_id', 'status', 'source')).map((h) => [Number(h.id), h]));
    for (const e of entries.filter((x) => x.status === 'offered')) {
      const h = allHolds.get(Number(e.offer_hold_id));
      if (!h || h.user_id !== e.user_id || h.source !== 'waitlist') out.push(`offered entry ${e.id}: offer hold ${e.offer_hold_id} is ${JSON.stringify(h)}`);
    }
    for (const h of allHolds.values()) {
      if (h.source === 'waitlist' && h.status === 'active' && !entries.some((e) => e.status === 'offered' && Number(e.offer_hold_id) === Number(h.id))) {
        out.push(`active waitlist hold ${h.id} has no offered entry`);
      }
    }
  }
  return out;
}
