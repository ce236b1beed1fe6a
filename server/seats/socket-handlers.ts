import type { CommandTable } from '../realtime/commands';
import { extendPayload, holdBody, socketReleasePayload } from '../contracts/seats';
import type { SeatsService } from './service';

/** `seat:hold`, `seat:release`, `hold:extend` on an event namespace. */
export function registerSeatHandlers(commands: CommandTable, seats: SeatsService): void {
  commands.add('seat:hold', holdBody, (input, user, socket) => seats.hold(user!, socket.data.eventId, input, { clientIp: socket.data.clientIp }));
  commands.add('seat:release', socketReleasePayload, async (input, user) => {
    const { released, hold } = await seats.release(user!, input.holdToken, input.seatIds);
    return hold ?? { released };
  });
  commands.add('hold:extend', extendPayload, (input, user) => seats.extend(user!, input.holdToken));
}
