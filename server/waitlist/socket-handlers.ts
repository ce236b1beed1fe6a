import type { CommandTable } from '../realtime/commands';
import { acceptPayload, emptyPayload, entryPayload, joinBody } from '../contracts/waitlist';
import type { WaitlistService } from './service';

/** `waitlist:join|status|accept|decline|leave` on an event namespace; offers arrive as `waitlist:offer`. */
export function registerWaitlistHandlers(commands: CommandTable, waitlist: WaitlistService): void {
  commands.add('waitlist:join', joinBody, (input, user, socket) => waitlist.join(user!, socket.data.eventId, input));
  commands.add('waitlist:status', emptyPayload, (_input, user, socket) => waitlist.mine(user!, socket.data.eventId));
  commands.add('waitlist:accept', acceptPayload, async (input, user) => (await waitlist.accept(user!, input.entryId, input.idempotencyKey)).booking);
  commands.add('waitlist:decline', entryPayload, (input, user) => waitlist.decline(user!, input.entryId));
  commands.add('waitlist:leave', entryPayload, (input, user) => waitlist.leave(user!, input.entryId));
}
