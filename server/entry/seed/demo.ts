import type { Role } from '../../shared/auth-user';
import type { Services } from '../services';
import type { Clock } from '../../shared/clock';
import { curvedSection, rectangularSection } from '../../venues/layout-generator';
import type { LayoutInput } from '../../contracts/venues';

/** Demo accounts printed at start-up. Development only: never seeded on MySQL unless SEED_DEMO=true. */
export const DEMO_ACCOUNTS: { email: string; password: string; name: string; role: Role }[] = [
  { email: 'admin@example.com', password: 'admin-password', name: 'Ada Admin', role: 'admin' },
  { email: 'boxoffice@example.com', password: 'boxoffice-password', name: 'Bo Office', role: 'box_office' },
  { email: 'user@example.com', password: 'user-password', name: 'Uma User', role: 'user' },
];

/** A theatre: stalls nearest the stage, a curved circle behind them, and two boxes. About 600 seats. */
export function demoLayout(): LayoutInput {
  const stalls = rectangularSection({
    name: 'Stalls',
    rows: 14,
    seatsPerRow: 24,
    originX: -11.5,
    originY: 4,
    category: (row) => (row < 4 ? 'premium' : row < 10 ? 'standard' : 'economy'),
    accessibleRows: [13],
  });
  const circle = curvedSection({ name: 'Circle', rows: 8, firstRowSeats: 24, seatsAddedPerRow: 2, category: 'circle', centerX: 0, centerY: -6, radius: 27, rowSpacing: 1.1, arcDegrees: 70 });
  const boxLeft = rectangularSection({ name: 'Box Left', rows: 2, seatsPerRow: 4, originX: -19, originY: 3, category: 'box' });
  const boxRight = rectangularSection({ name: 'Box Right', rows: 2, seatsPerRow: 4, originX: 15.5, originY: 3, category: 'box' });
  // General admission: a standing area with a capacity and no seats.
  const standing = { name: 'Standing', kind: 'ga' as const, capacity: 150, category: 'standing', seats: [] };
  return { sections: [stalls, circle, boxLeft, boxRight, standing] };
}

export interface DemoSeedResult {
  seeded: boolean;
  eventId?: number;
}

/** Seeds the demo venue, an on-sale event and three accounts, once: it does nothing if any user exists. */
export async function seedDemo(services: Services, clock: Clock, countUsers: () => Promise<number>): Promise<DemoSeedResult> {
  if ((await countUsers()) > 0) return { seeded: false };
  for (const account of DEMO_ACCOUNTS) await services.accounts.createUser(account);
  const venue = await services.venues.create({ name: 'Evently Hall', address: '1 Demo Street', layout: demoLayout() });
  const startsAt = new Date(clock.now() + 30 * 24 * 3600 * 1000);
  startsAt.setUTCHours(19, 30, 0, 0);
  const event = await services.events.create({
    venueId: venue.id,
    name: 'Opening Night: The Evently Orchestra',
    description: 'A demo event seeded on first start. Hold seats, watch them change live in another window, book.',
    startsAt: startsAt.toISOString(),
    status: 'on_sale',
    holdTtlSeconds: 600,
    maxHoldLifeSeconds: 1800,
    maxSeatsPerOrder: 10,
    maxSeatsPerUser: 10,
    prices: [
      { category: 'premium', priceCents: 8900 },
      { category: 'standard', priceCents: 5900 },
      { category: 'economy', priceCents: 3900 },
      { category: 'circle', priceCents: 4900 },
      { category: 'box', priceCents: 12000 },
      { category: 'standing', priceCents: 2900 },
    ],
  });
  return { seeded: true, eventId: event.id };
}
