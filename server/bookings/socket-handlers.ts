import type { CommandTable } from '../realtime/commands';
import { socketConfirmPayload } from '../contracts/bookings';
import type { BookingsService } from './service';

/** `booking:confirm` on an event namespace. */
export function registerBookingHandlers(commands: CommandTable, bookings: BookingsService): void {
  commands.add('booking:confirm', socketConfirmPayload, async (input, user) => {
    const { booking } = await bookings.confirm(user!, input.holdToken, input.idempotencyKey);
    return booking;
  });
}
