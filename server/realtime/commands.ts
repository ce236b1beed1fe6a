import type { z } from 'zod';
import { isStaff, type AuthUser } from '../shared/auth-user';
import type { Clock } from '../shared/clock';
import { AppError, toErrorBody, UnauthorizedError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { parse } from '../shared/validation';
import type { Ack, ClientToServerEvents } from '../contracts';
import { COMPACT_ROOM, STAFF_ROOM, type EventSocket } from './types';

export interface CommandContext {
  clock: Clock;
  logger: Logger;
  /** Optional gate run before every command (rate limits); throws an AppError to refuse. */
  beforeCommand?: (socket: EventSocket, name: string) => Promise<void>;
  /** Observes each command's outcome (metrics). */
  afterCommand?: (name: string, ms: number, error?: AppError) => void;
  /** The socket's user as they are now (role, active, token version); throws 401 when removed or revoked. */
  currentUser?: (user: AuthUser) => Promise<AuthUser>;
}

/**
 * Sets the socket's user and puts it in, or takes it out of, the staff room to match the role. A socket promoted
 * to staff switches to the JSON form (staff batches carry holders) rather than receive every batch twice; it
 * stays JSON if demoted again (its client decodes both forms).
 */
export function applyUser(socket: EventSocket, user: AuthUser): void {
  socket.data.user = user;
  if (isStaff(user)) {
    void socket.join(STAFF_ROOM);
    if (socket.data.compact) {
      socket.data.compact = false;
      void socket.leave(COMPACT_ROOM);
    }
  } else void socket.leave(STAFF_ROOM);
}

/**
 * Re-checks an open socket's user after their access changed: a demoted user leaves the staff room (no more
 * holder identities) and acts with the new role; a removed, deactivated or revoked user (or one we cannot check
 * right now) is disconnected, and a reconnect goes through the handshake's check again.
 */
export async function recheckUser(socket: EventSocket, access: { current(user: AuthUser): Promise<AuthUser> }, logger: Logger): Promise<void> {
  const user = socket.data.user;
  if (!user) return;
  try {
    applyUser(socket, await access.current(user));
  } catch (err) {
    if (!(err instanceof AppError)) logger.warn({ err, userId: user.id, sid: socket.id }, 'could not re-check a socket user; disconnecting it');
    socket.data.user = undefined;
    void socket.leave(STAFF_ROOM);
    socket.disconnect(true);
  }
}

type AckData<E extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[E]>[1] extends (reply: Ack<infer T>) => void ? T : never;

/** The acting user, if the socket signed in and its token has not expired since. */
export function requireUser(socket: EventSocket, clock: Clock): AuthUser {
  const user = socket.data.user;
  if (!user) throw new UnauthorizedError('Sign in to do that');
  if (user.expiresAt <= clock.now()) throw new UnauthorizedError('Your session has expired; sign in again', 'TOKEN_EXPIRED');
  return user;
}

type CommandOptions = { public?: boolean };

/** A command's handler: the parsed input, the acting user (undefined only for `public` commands) and the socket. */
export type CommandHandler<E extends keyof ClientToServerEvents, S extends z.ZodType> = (
  input: z.infer<S>,
  user: AuthUser | undefined,
  socket: EventSocket,
) => Promise<AckData<E>>;

/**
 * Runs one acknowledged command: validates the payload with zod, requires a signed-in user unless `public`,
 * calls the handler, and answers `{ok: true, data}` or `{ok: false, error}`. A command sent without an ack
 * callback is ignored (there is nobody to answer). Unknown errors are logged and answered as INTERNAL
 * without detail.
 */
async function run<E extends keyof ClientToServerEvents, S extends z.ZodType>(
  socket: EventSocket,
  ctx: CommandContext,
  name: E,
  schema: S,
  handler: CommandHandler<E, S>,
  opts: CommandOptions,
  args: unknown[],
): Promise<void> {
  const ack = args[args.length - 1];
  if (typeof ack !== 'function') return;
  const started = process.hrtime.bigint();
  let failure: AppError | undefined;
  try {
    if (args.length !== 2) throw new AppError(400, 'VALIDATION_FAILED', 'Send exactly one payload object and an ack');
    let user = opts.public ? socket.data.user : requireUser(socket, ctx.clock);
    // Refusals that cost nothing (draining, BUSY, rate limits) come before any read of the user's state.
    await ctx.beforeCommand?.(socket, name);
    if (user && ctx.currentUser) {
      // Role and status as they are now, not as the token (or the last check) said: cached per node, see UserAccess.
      const now = await ctx.currentUser(user);
      if (now !== user) applyUser(socket, now);
      user = now;
    }
    const input = parse(schema, args[0], `${name} payload`);
    const data = await handler(input, user, socket);
    ack({ ok: true, data });
  } catch (err) {
    const { status, body } = toErrorBody(err);
    // A deliberate 503 (BUSY, SHUTTING_DOWN) is load shedding, not a failure: logging each would flood the logs.
    if (status >= 500 && !(err instanceof AppError)) ctx.logger.error({ err, command: name, sid: socket.id }, 'socket command failed');
    failure = err instanceof AppError ? err : new AppError(status, body.code, body.message);
    ack({ ok: false, error: body });
  } finally {
    ctx.afterCommand?.(name, Number(process.hrtime.bigint() - started) / 1e6, failure);
  }
}

type Listener = (this: EventSocket, ...args: unknown[]) => void;

/**
 * A node's socket commands, built once. Each command's listener is ONE function shared by every socket (the
 * emitter calls it with the socket as `this`), so a connection costs a listener reference per command, not a
 * set of closures per command (finding 6 in load/README.md). An event not in the table that asks for an ack
 * is answered `UNKNOWN_COMMAND` (after the same rate limit), so a client never waits on silence.
 */
export class CommandTable {
  private readonly listeners = new Map<string, Listener>();
  private readonly unknown: Listener;

  constructor(private readonly ctx: CommandContext) {
    const listeners = this.listeners;
    this.unknown = function (this: EventSocket, ...args: unknown[]) {
      const ack = args[args.length - 1];
      if (listeners.has(String(args[0])) || typeof ack !== 'function') return;
      const socket = this;
      void (async () => {
        try {
          await ctx.beforeCommand?.(socket, 'unknown');
          throw new AppError(400, 'UNKNOWN_COMMAND', 'Unknown command');
        } catch (err) {
          const { status, body } = toErrorBody(err);
          ctx.afterCommand?.('unknown', 0, err instanceof AppError ? err : new AppError(status, body.code, body.message));
          ack({ ok: false, error: body });
        }
      })();
    };
  }

  /** Adds an acknowledged command (see `run` for validation, auth, hooks and answers). */
  add<E extends keyof ClientToServerEvents, S extends z.ZodType>(name: E, schema: S, handler: CommandHandler<E, S>, opts: CommandOptions = {}): this {
    if (this.listeners.has(name)) throw new Error(`socket command ${name} registered twice`);
    const ctx = this.ctx;
    this.listeners.set(name, function (this: EventSocket, ...args: unknown[]) {
      void run(this, ctx, name, schema, handler, opts, args);
    });
    return this;
  }

  /** Listens for every command on a newly connected socket. */
  attach(socket: EventSocket): void {
    const on = (socket as unknown as { on(n: string, l: Listener): void }).on.bind(socket);
    for (const [name, listener] of this.listeners) on(name, listener);
    (socket as unknown as { onAny(l: Listener): void }).onAny(this.unknown);
  }
}
