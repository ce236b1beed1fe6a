import type { CommandContext } from '../realtime/commands';
import { command } from '../realtime/commands';
import type { EventSocket } from '../realtime/types';
import { acceptPayload, emptyPayload, entryPayload, joinBody } from './schemas';
import type { WaitlistService } from './service';

/** `waitlist:join|status|accept|decline|leave` on an event namespace; offers arrive as `waitlist:offer`. */
export function registerWaitlistHandlers(socket: EventSocket, ctx: CommandContext, waitlist: WaitlistService): void {
  const eventId = socket.data.eventId;
  command(socket, ctx, 'waitlist:join', joinBody, (input, user) => waitlist.join(user!, eventId, input));
  command(socket, ctx, 'waitlist:status', emptyPayload, (_input, user) => waitlist.mine(user!, eventId));
  command(socket, ctx, 'waitlist:accept', acceptPayload, async (input, user) => (await waitlist.accept(user!, input.entryId, input.idempotencyKey)).booking);
  command(socket, ctx, 'waitlist:decline', entryPayload, (input, user) => waitlist.decline(user!, input.entryId));
  command(socket, ctx, 'waitlist:leave', entryPayload, (input, user) => waitlist.leave(user!, input.entryId));
}
