import { eventIdParams } from '../events/routes';
import type { ApiRouter } from '../http/route';
import { gaAvailabilityView, gaHoldBody, gaHoldView } from '../contracts/ga';
import type { GaService } from './service';

/** General admission: availability and holding tickets (booking is POST /api/bookings with the hold token). */
export function registerGaRoutes(api: ApiRouter, ga: GaService): void {
  api.route(
    {
      method: 'get',
      path: '/events/:id/ga',
      summary: "The event's general-admission areas and how many tickets are left",
      tag: 'general admission',
      access: 'public',
      params: eventIdParams,
      responses: { 200: { description: 'Areas', schema: gaAvailabilityView }, 404: { description: 'EVENT_NOT_FOUND' } },
    },
    async ({ params }) => ({ body: await ga.availability(params.id) }),
  );

  api.route(
    {
      method: 'post',
      path: '/events/:id/ga/holds',
      summary: 'Hold N general-admission tickets of one area (all or nothing)',
      tag: 'general admission',
      access: 'user',
      params: eventIdParams,
      body: gaHoldBody,
      responses: {
        201: { description: 'Held; book with POST /api/bookings {holdToken}', schema: gaHoldView },
        403: { description: 'NOT_ADMITTED: the event sells through a waiting room and you are not admitted (details.queue)' },
        404: { description: 'GA_AREA_NOT_FOUND, EVENT_NOT_FOUND' },
        409: { description: 'GA_SOLD_OUT (details.available), EVENT_NOT_ON_SALE' },
        422: { description: 'TOO_MANY_SEATS, HOLD_LIMIT_REACHED' },
      },
    },
    async ({ params, body, user }) => ({ status: 201, body: await ga.hold(user, params.id, body) }),
  );
}
