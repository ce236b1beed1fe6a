import type { CommandTable } from '../realtime/commands';
import { gaHoldBody } from '../contracts/ga';
import type { GaService } from './service';

/** `ga:hold` on an event namespace. */
export function registerGaHandlers(commands: CommandTable, ga: GaService): void {
  commands.add('ga:hold', gaHoldBody, (input, user, socket) => ga.hold(user!, socket.data.eventId, input));
}
