import type { z } from 'zod';
import type { AuthUser } from '../accounts/auth-user';
import type { Clock } from '../shared/clock';
import { AppError, toErrorBody, UnauthorizedError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { parse } from '../shared/validation';
import type { Ack, ClientToServerEvents } from './protocol';
import type { EventSocket } from './types';

export interface CommandContext {
  clock: Clock;
  logger: Logger;
  /** Optional gate run before every command (rate limits); throws an AppError to refuse. */
  beforeCommand?: (socket: EventSocket, name: string) => Promise<void>;
  /** Observes each command's outcome (metrics). */
  afterCommand?: (name: string, ms: number, error?: AppError) => void;
}

type AckData<E extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[E]>[1] extends (reply: Ack<infer T>) => void ? T : never;

/** The acting user, if the socket signed in and its token has not expired since. */
export function requireUser(socket: EventSocket, clock: Clock): AuthUser {
  const user = socket.data.user;
  if (!user) throw new UnauthorizedError('Sign in to do that');
  if (user.expiresAt <= clock.now()) throw new UnauthorizedError('Your session has expired; sign in again', 'TOKEN_EXPIRED');
  return user;
}

/**
 * Registers one acknowledged command: validates the payload with zod, requires a signed-in user unless
 * `public`, calls the handler, and answers `{ok: true, data}` or `{ok: false, error}`. A command sent
 * without an ack callback is ignored (there is nobody to answer). Unknown errors are logged and answered
 * as INTERNAL without detail.
 */
export function command<E extends keyof ClientToServerEvents, S extends z.ZodType>(
  socket: EventSocket,
  ctx: CommandContext,
  name: E,
  schema: S,
  handler: (input: z.infer<S>, user: AuthUser | undefined) => Promise<AckData<E>>,
  opts: { public?: boolean } = {},
): void {
  (socket as unknown as { on(n: string, l: (...args: unknown[]) => void): void }).on(name, async (...args: unknown[]) => {
    const ack = args[args.length - 1];
    if (typeof ack !== 'function') return;
    const started = process.hrtime.bigint();
    let failure: AppError | undefined;
    try {
      if (args.length !== 2) throw new AppError(400, 'VALIDATION_FAILED', 'Send exactly one payload object and an ack');
      const user = opts.public ? socket.data.user : requireUser(socket, ctx.clock);
      await ctx.beforeCommand?.(socket, name);
      const input = parse(schema, args[0], `${name} payload`);
      const data = await handler(input, user);
      ack({ ok: true, data });
    } catch (err) {
      const { status, body } = toErrorBody(err);
      if (status >= 500) ctx.logger.error({ err, command: name, sid: socket.id }, 'socket command failed');
      failure = err instanceof AppError ? err : new AppError(status, body.code, body.message);
      ack({ ok: false, error: body });
    } finally {
      ctx.afterCommand?.(name, Number(process.hrtime.bigint() - started) / 1e6, failure);
    }
  });
}
