import { z } from 'zod';
import { eventIdParams } from '../events/routes';
import type { ApiRouter } from '../http/route';
import { holdBody, holdToken, holdView, releaseBody, releaseView, snapshotView } from '../contracts/seats';
import type { SeatsService } from './service';

const tokenParams = z.object({ token: holdToken }).strict();

/** REST equivalents of the socket seat commands, over the same service methods. */
export function registerSeatsRoutes(api: ApiRouter, seats: SeatsService): void {
  api.route(
    {
      method: 'get',
      path: '/events/:id/seats',
      summary: 'Seat status snapshot with the cursor to catch up from',
      tag: 'seats',
      access: 'public',
      params: eventIdParams,
      responses: { 200: { description: 'Snapshot', schema: snapshotView }, 404: { description: 'EVENT_NOT_FOUND' } },
    },
    async ({ params }) => ({ body: await seats.snapshot(params.id) }),
  );

  api.route(
    {
      method: 'post',
      path: '/events/:id/holds',
      summary: 'Hold seats (all or nothing); with holdToken, add them to that hold',
      tag: 'seats',
      access: 'user',
      params: eventIdParams,
      body: holdBody,
      responses: {
        201: { description: 'Held', schema: holdView },
        403: { description: "NOT_ADMITTED: the event sells through a waiting room and you are not admitted (details.queue); FORBIDDEN: the holdToken is someone else's" },
        404: { description: 'EVENT_NOT_FOUND, SEAT_NOT_FOUND (details.seatIds), HOLD_NOT_FOUND (holdToken)' },
        409: { description: 'SEAT_UNAVAILABLE (details.seatIds lists the taken seats), EVENT_NOT_ON_SALE; with holdToken: HOLD_EXPIRED, HOLD_RELEASED, HOLD_ALREADY_BOOKED' },
        422: { description: 'TOO_MANY_SEATS, HOLD_LIMIT_REACHED, IP_HOLD_LIMIT_REACHED (HOLD_CAP_PER_IP), HOLD_OTHER_EVENT (holdToken of another event)' },
      },
    },
    async ({ params, body, user, clientIp }) => ({ status: 201, body: await seats.hold(user, params.id, body, { clientIp }) }),
  );

  api.route(
    {
      method: 'get',
      path: '/holds/:token',
      summary: 'A hold you own',
      tag: 'seats',
      access: 'user',
      params: tokenParams,
      responses: { 200: { description: 'The hold', schema: holdView }, 403: { description: 'FORBIDDEN: the hold is someone else\'s' }, 404: { description: 'HOLD_NOT_FOUND' } },
    },
    async ({ params, user }) => ({ body: await seats.getHold(user, params.token) }),
  );

  api.route(
    {
      method: 'post',
      path: '/holds/:token/extend',
      summary: "Extend a hold by the event's hold time (capped)",
      tag: 'seats',
      access: 'user',
      params: tokenParams,
      responses: { 200: { description: 'Extended', schema: holdView }, 403: { description: 'FORBIDDEN: the hold is someone else\'s' }, 404: { description: 'HOLD_NOT_FOUND' }, 409: { description: 'HOLD_EXPIRED, HOLD_RELEASED, HOLD_ALREADY_BOOKED, HOLD_MAX_LIFE, EVENT_NOT_ON_SALE' } },
    },
    async ({ params, user }) => ({ body: await seats.extend(user, params.token) }),
  );

  api.route(
    {
      method: 'delete',
      path: '/holds/:token',
      summary: 'Release a hold, or only some of its seats',
      tag: 'seats',
      access: 'user',
      params: tokenParams,
      body: releaseBody,
      responses: { 200: { description: 'Released seat ids and what is left of the hold', schema: releaseView }, 403: { description: 'FORBIDDEN: the hold is someone else\'s' }, 404: { description: 'HOLD_NOT_FOUND' }, 409: { description: 'HOLD_EXPIRED, HOLD_RELEASED, HOLD_ALREADY_BOOKED, SEAT_NOT_IN_HOLD' } },
    },
    async ({ params, body, user }) => ({ body: await seats.release(user, params.token, body?.seatIds) }),
  );
}
