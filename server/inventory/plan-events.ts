import type { DomainEvent } from '../shared/outbox';
import type { BatchPlan } from './batch-plan';

/**
 * The domain events a written batch reports (booking.confirmed, hold.expired), for the outbox rows `writePlan`
 * appends in the batch's own transaction. Called after the inserts, so bookings carry their real ids; `real`
 * maps the placeholder ids the booking seat lines still carry.
 */
export function planEvents(eventId: number, plan: BatchPlan, real: (ref: number | null) => number | null): DomainEvent[] {
  const events: DomainEvent[] = [];
  const seatsOf = new Map<number | null, number[]>();
  for (const s of plan.bookingSeats) {
    const id = real(s.bookingId);
    seatsOf.set(id, [...(seatsOf.get(id) ?? []), s.seatId]);
  }
  for (const b of plan.newBookings) {
    const seatIds = seatsOf.get(b.id) ?? [];
    events.push({
      type: 'booking.confirmed',
      data: { bookingId: b.id, reference: b.reference, eventId, userId: b.user_id, totalCents: b.total_cents, seatIds },
    });
  }
  for (const r of plan.results) {
    if (!r.ok || r.value.kind !== 'expire') continue;
    for (const e of r.value.expired) events.push({ type: 'hold.expired', data: { holdId: e.holdId, eventId, userId: e.userId, seatIds: e.seatIds } });
  }
  return events;
}
