import type { Knex } from 'knex';
import { UnprocessableError } from '../shared/errors';

/**
 * Checks the section and category a request narrows seats to (best available, a waitlist join): a section
 * must name a seated section of the event's venue (422 UNKNOWN_SECTION) and a category must be priced for the
 * event (422 UNKNOWN_CATEGORY). Both features answer the same way, and a typo is not mistaken for a sell-out
 * (409 NO_SEATS_AVAILABLE).
 */
export async function assertKnownScope(db: Knex, eventId: number, scope: { section?: string; category?: string }): Promise<void> {
  if (scope.section) {
    const section = await db('sections as s')
      .join('events as e', 'e.venue_id', 's.venue_id')
      .where({ 'e.id': eventId, 's.name': scope.section, 's.kind': 'seated' })
      .first('s.id');
    if (!section) throw new UnprocessableError('UNKNOWN_SECTION', 'This venue has no seated section of that name', { section: scope.section });
  }
  if (scope.category) {
    const price = await db('event_prices').where({ event_id: eventId, category: scope.category }).first('category');
    if (!price) throw new UnprocessableError('UNKNOWN_CATEGORY', 'This event has no such category', { category: scope.category });
  }
}
