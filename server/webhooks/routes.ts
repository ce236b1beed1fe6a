import type { Role } from '../shared/auth-user';
import type { ApiRouter } from '../http/route';
import {
  createEndpointBody,
  createdEndpointView,
  deliveryPage,
  deliveryParams,
  deliveryView,
  endpointList,
  endpointParams,
  endpointView,
  listDeliveriesQuery,
  updateEndpointBody,
} from '../contracts/webhooks';
import type { WebhookService } from './service';

const ADMIN: Role[] = ['admin'];
const TAG = 'webhooks';
const notFound = { 404: { description: 'WEBHOOK_NOT_FOUND' } };

/** /api/admin/webhooks: endpoints (CRUD), their delivery log and redelivery. Admins only. */
export function registerWebhookRoutes(api: ApiRouter, webhooks: WebhookService): void {
  api.route(
    {
      method: 'get',
      path: '/admin/webhooks',
      summary: 'List webhook endpoints (secrets are shown as a hint only)',
      tag: TAG,
      access: ADMIN,
      responses: { 200: { description: 'Every endpoint', schema: endpointList } },
    },
    async () => ({ body: await webhooks.list() }),
  );

  api.route(
    {
      method: 'post',
      path: '/admin/webhooks',
      summary: 'Register a webhook endpoint; the answer shows its signing secret, this once (see docs/WEBHOOKS.md)',
      tag: TAG,
      access: ADMIN,
      body: createEndpointBody,
      responses: {
        201: { description: 'Registered, with its secret', schema: createdEndpointView },
        422: { description: 'WEBHOOK_LIMIT_REACHED, WEBHOOK_URL_PRIVATE (a private or reserved address, unless WEBHOOK_ALLOW_PRIVATE_TARGETS)' },
      },
    },
    async ({ body }) => ({ status: 201, body: await webhooks.create(body) }),
  );

  api.route(
    {
      method: 'get',
      path: '/admin/webhooks/:id',
      summary: 'A webhook endpoint',
      tag: TAG,
      access: ADMIN,
      params: endpointParams,
      responses: { 200: { description: 'The endpoint', schema: endpointView }, ...notFound },
    },
    async ({ params }) => ({ body: await webhooks.get(params.id) }),
  );

  api.route(
    {
      method: 'patch',
      path: '/admin/webhooks/:id',
      summary: 'Change an endpoint: URL, event types, secret (rotate), enabled (a disabled endpoint gets no new events; its pending deliveries wait), description',
      tag: TAG,
      access: ADMIN,
      params: endpointParams,
      body: updateEndpointBody,
      responses: { 200: { description: 'Changed', schema: endpointView }, 422: { description: 'WEBHOOK_URL_PRIVATE' }, ...notFound },
    },
    async ({ params, body }) => ({ body: await webhooks.update(params.id, body) }),
  );

  api.route(
    {
      method: 'delete',
      path: '/admin/webhooks/:id',
      summary: 'Remove an endpoint with its delivery log (pending deliveries to it are dropped)',
      tag: TAG,
      access: ADMIN,
      params: endpointParams,
      responses: { 204: { description: 'Removed' }, ...notFound },
    },
    async ({ params }) => {
      await webhooks.remove(params.id);
      return { status: 204 };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/admin/webhooks/:id/deliveries',
      summary: "The endpoint's delivery log, newest first: status, attempts, next attempt, last HTTP status and error",
      tag: TAG,
      access: ADMIN,
      params: endpointParams,
      query: listDeliveriesQuery,
      responses: { 200: { description: 'A page of deliveries', schema: deliveryPage }, ...notFound },
    },
    async ({ params, query }) => ({ body: await webhooks.deliveries(params.id, query) }),
  );

  api.route(
    {
      method: 'post',
      path: '/admin/webhooks/:id/deliveries/:deliveryId/redeliver',
      summary: 'Send a delivery again (same event id, fresh day of retries); refused while an attempt is in flight',
      tag: TAG,
      access: ADMIN,
      params: deliveryParams,
      responses: {
        200: { description: 'Pending again, due now', schema: deliveryView },
        404: { description: 'DELIVERY_NOT_FOUND' },
        409: { description: 'DELIVERY_IN_FLIGHT' },
      },
    },
    async ({ params }) => ({ body: await webhooks.redeliver(params.id, params.deliveryId) }),
  );
}
