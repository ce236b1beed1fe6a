import type { Role } from '../shared/auth-user';
import { eventIdParams } from '../events/routes';
import type { ApiRouter } from '../http/route';
import { configView } from './config-store';
import { queueAdminView, queueConfigBody, queueConfigView, queueStatusView } from '../contracts/queue';
import type { WaitingRoomService } from './service';

const ADMIN: Role[] = ['admin'];
const STAFF: Role[] = ['admin', 'box_office'];

/**
 * The waiting room over REST: a buyer's place (join, status, leave) for clients without a socket, and the
 * organiser's configuration under /api/admin.
 */
export function registerQueueRoutes(api: ApiRouter, queue: WaitingRoomService): void {
  const place = { 200: { description: 'Your place (state `off`: no waiting room, go straight to the seats)', schema: queueStatusView }, 404: { description: 'EVENT_NOT_FOUND' } };
  api.route(
    {
      method: 'post',
      path: '/events/:id/queue',
      summary: 'Join the waiting room (or get the place this account already has)',
      tag: 'waiting room',
      access: 'user',
      params: eventIdParams,
      responses: { ...place, 409: { description: 'QUEUE_NOT_OPEN (details.opensAt)' } },
    },
    async ({ params, user }) => ({ body: await queue.join(user, params.id) }),
  );
  api.route(
    {
      method: 'get',
      path: '/events/:id/queue',
      summary: 'Your place in the waiting room, position and estimated wait (signed out: whether there is one, state none)',
      tag: 'waiting room',
      access: 'public',
      params: eventIdParams,
      responses: place,
    },
    async ({ params, maybeUser }) => ({ body: await queue.status(maybeUser, params.id) }),
  );
  api.route(
    {
      method: 'delete',
      path: '/events/:id/queue',
      summary: 'Leave the waiting room; when admitted, hand your slot to the next buyer',
      tag: 'waiting room',
      access: 'user',
      params: eventIdParams,
      responses: place,
    },
    async ({ params, user }) => ({ body: await queue.leave(user, params.id) }),
  );

  api.route(
    {
      method: 'put',
      path: '/admin/events/:id/queue',
      summary: "Set the event's waiting room (switching it off forgets the line)",
      tag: 'waiting room',
      access: ADMIN,
      params: eventIdParams,
      body: queueConfigBody,
      responses: { 200: { description: 'The configuration', schema: queueConfigView }, 404: { description: 'EVENT_NOT_FOUND' } },
    },
    async ({ params, body }) => ({ body: configView(await queue.configure(params.id, body)) }),
  );
  api.route(
    {
      method: 'get',
      path: '/admin/events/:id/queue',
      summary: "The event's waiting room and its line now",
      tag: 'waiting room',
      access: STAFF,
      params: eventIdParams,
      responses: { 200: { description: 'Configuration and line', schema: queueAdminView }, 404: { description: 'QUEUE_NOT_CONFIGURED' } },
    },
    async ({ params }) => ({ body: await queue.adminView(params.id) }),
  );
}
