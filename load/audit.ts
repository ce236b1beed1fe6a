import type { Db } from '../server/db/knex';

export interface AuditCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface AuditResult {
  pass: boolean;
  checks: AuditCheck[];
}

/**
 * Checks the database after a run. Independent of the server's code: plain queries over the tables.
 * 1. no seat is in two active bookings; 2. every booking a client was acknowledged exists, is confirmed and
 * holds exactly the acknowledged seats; 3. per event, booked event_seats == active booking_seats, and each
 * booked seat points at the confirmed booking that holds it; 4. every held seat belongs to an active hold
 * (and no available seat still points at a hold or booking).
 */
export async function audit(db: Db, eventIds: number[], acked: { bookingId: number; seatIds: number[] }[]): Promise<AuditResult> {
  const checks: AuditCheck[] = [];
  const add = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });

  const doubles = await db('booking_seats as bs')
    .join('bookings as b', 'b.id', 'bs.booking_id')
    .whereIn('bs.event_id', eventIds)
    .andWhere('b.status', 'confirmed')
    .groupBy('bs.event_id', 'bs.seat_id')
    .havingRaw('count(*) > 1')
    .select('bs.event_id', 'bs.seat_id', db.raw('count(*) as n'));
  add('no seat in two active bookings', doubles.length === 0, doubles.length ? `${doubles.length} seats double-booked, e.g. ${JSON.stringify(doubles.slice(0, 3))}` : 'none');

  const staleActive = await db('booking_seats as bs')
    .join('bookings as b', 'b.id', 'bs.booking_id')
    .whereIn('bs.event_id', eventIds)
    .andWhere('bs.active', 1)
    .andWhereNot('b.status', 'confirmed')
    .count({ n: '*' })
    .first();
  add('active booking_seats only on confirmed bookings', Number(staleActive?.n ?? 0) === 0, `${Number(staleActive?.n ?? 0)} stale`);

  // Every acknowledged booking is there with exactly its seats.
  let missing = 0;
  let wrongSeats = 0;
  for (let i = 0; i < acked.length; i += 500) {
    const chunk = acked.slice(i, i + 500);
    const ids = chunk.map((a) => a.bookingId);
    const found = await db('bookings').whereIn('id', ids).andWhere('status', 'confirmed').select('id');
    const present = new Set(found.map((r) => Number(r.id)));
    const seats = await db('booking_seats').whereIn('booking_id', ids).andWhere('active', 1).select('booking_id', 'seat_id');
    const byBooking = new Map<number, number[]>();
    for (const s of seats) byBooking.set(Number(s.booking_id), [...(byBooking.get(Number(s.booking_id)) ?? []), Number(s.seat_id)]);
    for (const a of chunk) {
      if (!present.has(a.bookingId)) missing++;
      else if (JSON.stringify([...(byBooking.get(a.bookingId) ?? [])].sort((x, y) => x - y)) !== JSON.stringify([...a.seatIds].sort((x, y) => x - y))) wrongSeats++;
    }
  }
  add('every acknowledged booking present with its seats', missing === 0 && wrongSeats === 0, `${acked.length} acknowledged, ${missing} missing, ${wrongSeats} with other seats`);

  for (const eventId of eventIds) {
    const booked = Number((await db('event_seats').where({ event_id: eventId, status: 'booked' }).count({ n: '*' }).first())?.n ?? 0);
    const active = Number((await db('booking_seats').where({ event_id: eventId, active: 1 }).count({ n: '*' }).first())?.n ?? 0);
    add(`event ${eventId}: booked seats == active booking seats`, booked === active, `${booked} booked, ${active} active booking seats`);

    const mismatched = await db('event_seats as es')
      .leftJoin('booking_seats as bs', function () {
        this.on('bs.event_id', '=', 'es.event_id').andOn('bs.seat_id', '=', 'es.seat_id').andOn('bs.booking_id', '=', 'es.booking_id');
      })
      .leftJoin('bookings as b', 'b.id', 'es.booking_id')
      .where('es.event_id', eventId)
      .andWhere('es.status', 'booked')
      .andWhere((q) => q.whereNull('bs.id').orWhereNot('b.status', 'confirmed').orWhereNull('bs.active'))
      .count({ n: '*' })
      .first();
    add(`event ${eventId}: each booked seat points at its confirmed booking`, Number(mismatched?.n ?? 0) === 0, `${Number(mismatched?.n ?? 0)} mismatched`);

    const orphanHeld = await db('event_seats as es')
      .leftJoin('holds as h', 'h.id', 'es.hold_id')
      .where('es.event_id', eventId)
      .andWhere('es.status', 'held')
      .andWhere((q) => q.whereNull('h.id').orWhereNot('h.status', 'active').orWhereRaw('h.event_id <> es.event_id'))
      .count({ n: '*' })
      .first();
    add(`event ${eventId}: held seats belong to active holds`, Number(orphanHeld?.n ?? 0) === 0, `${Number(orphanHeld?.n ?? 0)} orphaned`);

    const dangling = await db('event_seats')
      .where({ event_id: eventId, status: 'available' })
      .andWhere((q) => q.whereNotNull('hold_id').orWhereNotNull('booking_id'))
      .count({ n: '*' })
      .first();
    add(`event ${eventId}: available seats point at no hold or booking`, Number(dangling?.n ?? 0) === 0, `${Number(dangling?.n ?? 0)} dangling`);
  }
  return { pass: checks.every((c) => c.ok), checks };
}
