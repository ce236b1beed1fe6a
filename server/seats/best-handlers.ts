import { eventIdParams } from '../events/routes';
import type { ApiRouter } from '../http/route';
import type { CommandContext } from '../realtime/commands';
import { command } from '../realtime/commands';
import type { EventSocket } from '../realtime/types';
import { bestBody, type BestAvailableService } from './best-service';
import { holdView } from './schemas';

/** REST: POST /events/:id/holds/best. */
export function registerBestRoutes(api: ApiRouter, best: BestAvailableService): void {
  api.route(
    {
      method: 'post',
      path: '/events/:id/holds/best',
      summary: 'Hold the best available seats: adjacent in one row nearest the stage (split only with allowSplit)',
      tag: 'seats',
      access: 'user',
      params: eventIdParams,
      body: bestBody,
      responses: {
        201: { description: 'Held', schema: holdView },
        409: { description: 'NO_SEATS_AVAILABLE, EVENT_NOT_ON_SALE' },
        422: { description: 'TOO_MANY_SEATS, HOLD_LIMIT_REACHED' },
      },
    },
    async ({ params, body, user }) => ({ status: 201, body: await best.holdBest(user, params.id, body) }),
  );
}

/** Socket: `seat:best`. */
export function registerBestHandlers(socket: EventSocket, ctx: CommandContext, best: BestAvailableService): void {
  const eventId = socket.data.eventId;
  command(socket, ctx, 'seat:best', bestBody, (input, user) => best.holdBest(user!, eventId, input));
}
