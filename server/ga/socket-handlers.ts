import type { CommandContext } from '../realtime/commands';
import { command } from '../realtime/commands';
import type { EventSocket } from '../realtime/types';
import { gaHoldBody } from './schemas';
import type { GaService } from './service';

/** `ga:hold` on an event namespace. */
export function registerGaHandlers(socket: EventSocket, ctx: CommandContext, ga: GaService): void {
  const eventId = socket.data.eventId;
  command(socket, ctx, 'ga:hold', gaHoldBody, (input, user) => ga.hold(user!, eventId, input));
}
