import { bookingView, idempotencyKey } from '../contracts/bookings';
import { eventIdParams } from '../events/routes';
import type { ApiRouter } from '../http/route';
import { NotFoundError, ValidationError } from '../shared/errors';
import { issuesToDetails } from '../shared/validation';
import { entryParams, entryView, joinBody, listWaitlistQuery, staffEntryPage } from '../contracts/waitlist';
import type { WaitlistService } from './service';

/** The waitlist over REST: join, position, offer, accept, decline, leave; the queue for staff. */
export function registerWaitlistRoutes(api: ApiRouter, waitlist: WaitlistService): void {
  api.route(
    {
      method: 'post',
      path: '/events/:id/waitlist',
      summary: "Join the event's waitlist with a party size (optionally a section or category, and seated together)",
      tag: 'waitlist',
      access: 'user',
      params: eventIdParams,
      body: joinBody,
      responses: {
        201: { description: 'Joined; position says where you are (1 = next)', schema: entryView },
        404: { description: 'EVENT_NOT_FOUND' },
        409: { description: 'WAITLIST_ALREADY_JOINED, EVENT_NOT_ON_SALE' },
        422: { description: 'TOO_MANY_SEATS, UNKNOWN_SECTION, UNKNOWN_CATEGORY' },
      },
    },
    async ({ params, body, user }) => ({ status: 201, body: await waitlist.join(user, params.id, body) }),
  );

  api.route(
    {
      method: 'get',
      path: '/events/:id/waitlist/me',
      summary: 'Your latest waitlist entry for the event: status, position and any open offer',
      tag: 'waitlist',
      access: 'user',
      params: eventIdParams,
      responses: { 200: { description: 'Your entry', schema: entryView }, 404: { description: 'WAITLIST_ENTRY_NOT_FOUND' } },
    },
    async ({ params, user }) => {
      const entry = await waitlist.mine(user, params.id);
      if (!entry) throw new NotFoundError('Waitlist entry', 'WAITLIST_ENTRY_NOT_FOUND');
      return { body: entry };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/events/:id/waitlist',
      summary: "Staff: the event's waitlist in queue order, with who is on it",
      tag: 'waitlist',
      access: ['box_office', 'admin'],
      params: eventIdParams,
      query: listWaitlistQuery,
      responses: { 200: { description: 'A page of entries', schema: staffEntryPage }, 404: { description: 'EVENT_NOT_FOUND' } },
    },
    async ({ params, query }) => ({ body: await waitlist.list(params.id, query) }),
  );

  api.route(
    {
      method: 'post',
      path: '/waitlist/:id/accept',
      summary: 'Book the seats offered to you (idempotent by the Idempotency-Key header)',
      tag: 'waitlist',
      access: 'user',
      params: entryParams,
      headers: { 'Idempotency-Key': { required: true, description: '8-100 printable characters; a repeat returns the same booking' } },
      responses: {
        201: { description: 'Booked', schema: bookingView },
        200: { description: 'A repeat with the same key: the same booking (Idempotent-Replayed: true)', schema: bookingView },
        404: { description: "WAITLIST_ENTRY_NOT_FOUND (also: the entry is someone else's)" },
        409: { description: 'WAITLIST_NO_OFFER, HOLD_EXPIRED, HOLD_RELEASED, HOLD_ALREADY_BOOKED (booked with another key), EVENT_NOT_ON_SALE' },
        422: { description: 'IDEMPOTENCY_KEY_REUSED' },
      },
    },
    async ({ params, user, header }) => {
      const key = idempotencyKey.safeParse(header('Idempotency-Key'));
      if (!key.success) throw new ValidationError('Invalid Idempotency-Key header', issuesToDetails(key.error).map((d) => ({ ...d, path: 'Idempotency-Key' })));
      const { booking, replayed } = await waitlist.accept(user, params.id, key.data);
      return { status: replayed ? 200 : 201, body: booking, headers: replayed ? { 'Idempotent-Replayed': 'true' } : undefined };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/waitlist/:id/decline',
      summary: 'Decline the offer: its seats go to the next in line',
      tag: 'waitlist',
      access: 'user',
      params: entryParams,
      responses: { 200: { description: 'Declined', schema: entryView }, 404: { description: 'WAITLIST_ENTRY_NOT_FOUND' }, 409: { description: 'WAITLIST_NO_OFFER' } },
    },
    async ({ params, user }) => ({ body: await waitlist.decline(user, params.id) }),
  );

  api.route(
    {
      method: 'delete',
      path: '/waitlist/:id',
      summary: 'Leave the waitlist (an open offer is declined)',
      tag: 'waitlist',
      access: 'user',
      params: entryParams,
      responses: { 200: { description: 'Left', schema: entryView }, 404: { description: 'WAITLIST_ENTRY_NOT_FOUND' }, 409: { description: 'WAITLIST_NOT_ACTIVE' } },
    },
    async ({ params, user }) => ({ body: await waitlist.leave(user, params.id) }),
  );
}
