import { cancelEventBody, cancelledEventView, createEventInput, eventPage, eventParams, eventView, listEventsQuery, updateEventBody } from '../contracts/events';
import { etagOf, versionFromIfMatch } from '../http/etag';
import type { ApiRouter } from '../http/route';
import { ADMIN, STAFF } from '../shared/auth-user';
import type { EventCancellation } from './cancellation';
import type { EventLifecycle } from './lifecycle';
import type { EventsService } from './service';

const TAG = 'admin';
const ifMatch = { 'If-Match': { required: true, description: 'The ETag you read (e.g. "3"); a stale one gets 412 and changes nothing' } };

/** `/api/admin/events…`: staff list and read events (drafts too); admins create, change, publish, close and cancel them. */
export function registerEventLifecycleRoutes(api: ApiRouter, s: { events: EventsService; lifecycle: EventLifecycle; cancellation: EventCancellation }): void {
  api.route(
    {
      method: 'get',
      path: '/admin/events',
      summary: 'List events including drafts (paginated, filtered, sorted)',
      tag: TAG,
      access: STAFF,
      query: listEventsQuery,
      responses: { 200: { description: 'A page of events', schema: eventPage } },
    },
    async ({ query }) => ({ body: await s.events.list(query, { includeDrafts: true }) }),
  );

  api.route(
    {
      method: 'post',
      path: '/admin/events',
      summary: 'Create an event (draft or on sale) with prices per category, hold time and order limits',
      tag: TAG,
      access: ADMIN,
      body: createEventInput,
      responses: { 201: { description: 'Created', schema: eventView }, 404: { description: 'VENUE_NOT_FOUND' }, 422: { description: 'MISSING_PRICES' } },
    },
    async ({ body }) => {
      const event = await s.lifecycle.createEvent(body);
      return { status: 201, body: event, headers: { ETag: etagOf(event.version) } };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/admin/events/:id',
      summary: 'An event (drafts too); the ETag carries its version',
      tag: TAG,
      access: STAFF,
      params: eventParams,
      responses: { 200: { description: 'The event', schema: eventView }, 404: { description: 'EVENT_NOT_FOUND' } },
    },
    async ({ params }) => {
      const event = await s.lifecycle.getEvent(params.id);
      return { body: event, headers: { ETag: etagOf(event.version) } };
    },
  );

  api.route(
    {
      method: 'patch',
      path: '/admin/events/:id',
      summary: 'Change an event or move it draft → on_sale → closed (If-Match required)',
      tag: TAG,
      access: ADMIN,
      params: eventParams,
      body: updateEventBody,
      headers: ifMatch,
      responses: {
        200: { description: 'Updated', schema: eventView },
        404: { description: 'EVENT_NOT_FOUND' },
        409: { description: 'INVALID_STATUS_TRANSITION, EVENT_CANCELLED' },
        412: { description: 'PRECONDITION_FAILED (stale If-Match)' },
        422: { description: 'UNKNOWN_CATEGORY, INVALID_TIMES' },
        428: { description: 'PRECONDITION_REQUIRED' },
      },
    },
    async ({ params, body, header }) => {
      const event = await s.lifecycle.updateEvent(params.id, body, versionFromIfMatch(header('If-Match')));
      return { body: event, headers: { ETag: etagOf(event.version) } };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/admin/events/:id/cancel',
      summary: 'Cancel an event: cancels its bookings, releases its holds, tells everyone live (If-Match required)',
      tag: TAG,
      access: ADMIN,
      params: eventParams,
      body: cancelEventBody,
      headers: ifMatch,
      responses: {
        200: { description: 'Cancelled', schema: cancelledEventView },
        404: { description: 'EVENT_NOT_FOUND' },
        409: { description: 'EVENT_ALREADY_CANCELLED' },
        412: { description: 'PRECONDITION_FAILED' },
        428: { description: 'PRECONDITION_REQUIRED' },
      },
    },
    async ({ params, body, header, user }) => {
      const event = await s.cancellation.cancelEvent(user, params.id, versionFromIfMatch(header('If-Match')), body.reason);
      return { body: event, headers: { ETag: etagOf(event.version) } };
    },
  );
}
