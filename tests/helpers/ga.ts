import { randomUUID } from 'node:crypto';
import { rectangularSection } from '../../server/venues/layout-generator';
import type { TestEnv } from './env';

/**
 * A venue with a small seated block (one row of 4 'standard' seats at 3000) and one standing area of `capacity`
 * (1500 a ticket), and an on-sale event over it.
 */
export async function seedGaEvent(
  env: TestEnv,
  opts: { capacity?: number; holdTtlSeconds?: number } = {},
): Promise<{ eventId: number; sectionId: number; seatIds: number[] }> {
  const services = env.nodes[0]!.services;
  const venue = await services.venues.create({
    name: `GA Hall ${randomUUID().slice(0, 6)}`,
    layout: {
      sections: [
        rectangularSection({ name: 'Main', rows: 1, seatsPerRow: 4, category: 'standard' }),
        { name: 'Standing', kind: 'ga', capacity: opts.capacity ?? 20, category: 'standing', seats: [] },
      ],
    },
  });
  const event = await services.events.create({
    venueId: venue.id,
    name: 'GA Event',
    startsAt: new Date(env.clock.now() + 7 * 24 * 3600 * 1000).toISOString(),
    status: 'on_sale',
    holdTtlSeconds: opts.holdTtlSeconds ?? 600,
    maxHoldLifeSeconds: 1800,
    maxSeatsPerOrder: 10,
    maxSeatsPerUser: 10,
    prices: [
      { category: 'standard', priceCents: 3000 },
      { category: 'standing', priceCents: 1500 },
    ],
  });
  const section = await env.db('sections').where({ venue_id: venue.id, kind: 'ga' }).first('id');
  const seats = await env.db('seats').where({ venue_id: venue.id }).orderBy('id').pluck('id');
  return { eventId: event.id, sectionId: section.id, seatIds: seats };
}
