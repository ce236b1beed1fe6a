import { z } from 'zod';
import { isStaff } from '../accounts/auth-user';
import type { ApiRouter } from '../http/route';
import { idParam } from '../shared/validation';
import { eventDetailView, eventPage, listEventsQuery } from './schemas';
import type { EventsService } from './service';

export const eventIdParams = z.object({ id: idParam }).strict();

/** GET /events, GET /events/:id. Drafts are visible to staff only. */
export function registerEventsRoutes(api: ApiRouter, events: EventsService): void {
  api.route(
    {
      method: 'get',
      path: '/events',
      summary: 'List events (paginated, filtered, sorted)',
      tag: 'events',
      access: 'public',
      query: listEventsQuery,
      responses: { 200: { description: 'A page of events', schema: eventPage } },
    },
    async ({ query, maybeUser }) => ({ body: await events.list(query, { includeDrafts: !!maybeUser && isStaff(maybeUser) }) }),
  );

  api.route(
    {
      method: 'get',
      path: '/events/:id',
      summary: 'An event with its venue and seat layout',
      tag: 'events',
      access: 'public',
      params: eventIdParams,
      responses: { 200: { description: 'The event', schema: eventDetailView }, 404: { description: 'EVENT_NOT_FOUND' } },
    },
    async ({ params, maybeUser }) => ({ body: await events.detail(params.id, { includeDrafts: !!maybeUser && isStaff(maybeUser) }) }),
  );
}
