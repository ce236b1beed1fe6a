import type { CommandContext } from '../realtime/commands';
import { command } from '../realtime/commands';
import type { EventSocket } from '../realtime/types';
import { socketConfirmPayload } from './schemas';
import type { BookingsService } from './service';

/** `booking:confirm` on an event namespace. */
export function registerBookingHandlers(socket: EventSocket, ctx: CommandContext, bookings: BookingsService): void {
  command(socket, ctx, 'booking:confirm', socketConfirmPayload, async (input, user) => {
    const { booking } = await bookings.confirm(user!, input.holdToken, input.idempotencyKey);
    return booking;
  });
}
