import type { CommandContext } from '../realtime/commands';
import { command } from '../realtime/commands';
import type { EventSocket } from '../realtime/types';
import { extendPayload, holdBody, socketReleasePayload } from './schemas';
import type { SeatsService } from './service';

/** `seat:hold`, `seat:release`, `hold:extend` on an event namespace. */
export function registerSeatHandlers(socket: EventSocket, ctx: CommandContext, seats: SeatsService): void {
  const eventId = socket.data.eventId;
  command(socket, ctx, 'seat:hold', holdBody, (input, user) => seats.hold(user!, eventId, input));
  command(socket, ctx, 'seat:release', socketReleasePayload, async (input, user) => {
    const { released, hold } = await seats.release(user!, input.holdToken, input.seatIds);
    return hold ?? { released };
  });
  command(socket, ctx, 'hold:extend', extendPayload, (input, user) => seats.extend(user!, input.holdToken));
}
