import { eventIdParams } from '../events/routes';
import type { ApiRouter } from '../http/route';
import type { CommandTable } from '../realtime/commands';
import type { BestAvailableService } from './best-service';
import { bestBody, holdView } from '../contracts/seats';

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
        403: { description: 'NOT_ADMITTED: the event sells through a waiting room and you are not admitted (details.queue)' },
        404: { description: 'EVENT_NOT_FOUND' },
        409: { description: 'NO_SEATS_AVAILABLE, EVENT_NOT_ON_SALE' },
        422: { description: 'TOO_MANY_SEATS, HOLD_LIMIT_REACHED, IP_HOLD_LIMIT_REACHED (HOLD_CAP_PER_IP), UNKNOWN_SECTION, UNKNOWN_CATEGORY' },
      },
    },
    async ({ params, body, user, clientIp }) => ({ status: 201, body: await best.holdBest(user, params.id, body, { clientIp }) }),
  );
}

/** Socket: `seat:best`. */
export function registerBestHandlers(commands: CommandTable, best: BestAvailableService): void {
  commands.add('seat:best', bestBody, (input, user, socket) => best.holdBest(user!, socket.data.eventId, input, { clientIp: socket.data.clientIp }));
}
