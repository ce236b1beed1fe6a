/**
 * The domain event types of the webhook outbox (shared/outbox.ts), in a module of their own without Node
 * imports: the webhook admin schemas (contracts/webhooks.ts) validate subscriptions against this list, and
 * contracts compile for the browser too.
 */

/** Every domain event type, as receivers see it in `type`. */
export const DOMAIN_EVENT_TYPES = [
  'booking.confirmed',
  'booking.cancelled',
  'hold.expired',
  'waitlist.offer_made',
  'waitlist.offer_accepted',
  'waitlist.offer_declined',
  'waitlist.offer_lapsed',
  'event.status_changed',
] as const;

export type DomainEventType = (typeof DOMAIN_EVENT_TYPES)[number];
