import { z } from 'zod';
import type { AuthUser } from '../shared/auth-user';
import type { UserAccess } from '../accounts/user-access';
import { CommandTable, requireUser, type CommandContext } from '../realtime/commands';
import { manageChildNamespaces } from '../realtime/child-namespaces';
import { socketClientIp } from '../realtime/client-ip';
import { queueNamespace, type QueueProgress, type QueueStatus } from '../contracts';
import { userRoom, type EventNamespace, type EventSocket, type IoServer } from '../realtime/types';
import type { Clock } from '../shared/clock';
import { AppError, toErrorBody, ValidationError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { queuePlacePayload } from '../contracts/queue';
import type { LineTick, WaitingRoomService } from './service';

/** Sockets whose account is in line (lobby or waiting): they get `queue:progress`. Admitted ones leave it. */
export const QUEUE_ROOM = 'queue';

const NAMESPACE = /^\/queue\/([1-9][0-9]{0,9})$/;
/** At most one `queue:progress` per event per node this often (wall time: it paces messages, not the line). */
const PROGRESS_EVERY_MS = 900;
/**
 * Progress writes per second one node spends on one event's line at most: with more queued sockets than this the
 * interval stretches (10,000 on a node: one message each every 4 s). Measured: 20,000 queued sockets told every
 * second took a whole core from the admission that moves the line (load/README.md, issue 12).
 */
const PROGRESS_WRITES_PER_S = 2500;
/** Line counts alone (the lobby filling up) at most this often. */
const COUNTS_EVERY_MS = 10_000;
const handshakeAuth = z.object({ token: z.string().min(1).max(4096) }).strict();

export interface WaitingRoomSocketDeps {
  queue: WaitingRoomService;
  access: Pick<UserAccess, 'authenticate' | 'current'>;
  isWatchable: (eventId: number) => Promise<boolean>;
  clock: Clock;
  logger: Logger;
  commandHooks?: Pick<CommandContext, 'beforeCommand' | 'afterCommand'>;
  trustProxy?: boolean;
  /** Observes each progress broadcast: how many sockets it was written to (metrics). */
  onProgress?: (sockets: number) => void;
}

/**
 * The waiting room's sockets: one namespace per event, `/queue/<eventId>`, apart from the seat namespace so that
 * 20,000 queued buyers cost no seat snapshots or seat batches. A token is required (a place belongs to an
 * account). Each tick of this node sends ONE `queue:progress` per event to its own queued sockets (encoded once,
 * `local`: every node ticks, so nothing crosses Redis), and `queue:admitted` to the sockets of each account the
 * store's admission log names, whichever node admitted it.
 */
export function attachWaitingRoom(io: IoServer, deps: WaitingRoomSocketDeps): { namespaces: () => EventNamespace[] } {
  const parent = io.of(NAMESPACE);
  const children = manageChildNamespaces<EventNamespace>(io, parent);

  parent.use(async (socket, next) => {
    try {
      const eventId = Number(NAMESPACE.exec(socket.nsp.name)![1]);
      const auth = handshakeAuth.safeParse(socket.handshake.auth ?? {});
      if (!auth.success) throw new ValidationError('Invalid handshake auth: send {token}', auth.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
      socket.data.user = await deps.access.authenticate(auth.data.token);
      if (!(await deps.isWatchable(eventId))) throw new AppError(404, 'EVENT_NOT_FOUND', 'Event not found');
      socket.data.eventId = eventId;
      socket.data.clientIp = socketClientIp(socket, !!deps.trustProxy);
      next();
    } catch (err) {
      const { body } = toErrorBody(err);
      next(Object.assign(new Error(body.message), { data: body }));
    }
  });

  const inLine = (socket: EventSocket, status: QueueStatus): QueueStatus => {
    if (status.state === 'lobby' || status.state === 'waiting') void socket.join(QUEUE_ROOM);
    else void socket.leave(QUEUE_ROOM);
    return status;
  };
  const commands = new CommandTable({ clock: deps.clock, logger: deps.logger, ...deps.commandHooks, currentUser: (user) => deps.access.current(user) });
  // `public` here skips the per-command re-read of the user's access (UserAccess.current): its 30 s cache has long
  // expired for 20,000 people who joined minutes ago, and after the draw they all ask `queue:status` at once — 20,000
  // database reads that queued the admitted buyers' seat-map handshakes behind them (load/README.md, queue). The
  // handshake checked the token against the user's state, requireUser checks it has not expired, and a place in
  // line buys nothing by itself: every hold goes through the seat namespace with the full check.
  const place = (run: (user: AuthUser, eventId: number) => Promise<QueueStatus>) => async (_input: unknown, _user: AuthUser | undefined, socket: EventSocket) =>
    inLine(socket, await run(requireUser(socket, deps.clock), socket.data.eventId));
  commands.add('queue:join', queuePlacePayload, place((u, e) => deps.queue.join(u, e)), { public: true });
  commands.add('queue:status', queuePlacePayload, place((u, e) => deps.queue.status(u, e)), { public: true });
  commands.add('queue:leave', queuePlacePayload, place((u, e) => deps.queue.leave(u, e)), { public: true });

  parent.on('connection', (socket: EventSocket) => {
    if (socket.data.user) void socket.join(userRoom(socket.data.user.id));
    commands.attach(socket);
  });

  // Per namespace, the last progress sent and when. What moves a buyer (head, the draw, the rate) goes out at most
  // about once a second: extra ticks (a booking or a leave admits the next buyer at once) within that second send
  // nothing, the ticker's next pass sends the latest line. Counts alone (people joining the lobby) go out at most
  // every COUNTS_EVERY_MS: during a join rush they change every second, and telling 20,000 sockets so each second
  // is most of the rush's cost.
  const lastSent = new WeakMap<EventNamespace, { key: string; counts: string; at: number }>();
  deps.queue.onTick((tick: LineTick) => {
    const nsp = children.list().find((n) => n.name === queueNamespace(tick.eventId));
    if (!nsp) return;
    for (const a of tick.result.log) {
      if (a.until <= deps.clock.now()) continue;
      const room = userRoom(a.userId);
      if (!nsp.adapter.rooms.has(room)) continue;
      nsp.local.to(room).emit('queue:admitted', { eventId: tick.eventId, admittedUntil: new Date(a.until).toISOString() });
      nsp.local.in(room).socketsLeave(QUEUE_ROOM);
    }
    const progress: QueueProgress = { eventId: tick.eventId, ...tick.line };
    const key = `${progress.head}|${progress.drawn}|${progress.ratePerMinute}`;
    const counts = `${progress.waiting}|${progress.lobby}`;
    const queued = nsp.adapter.rooms.get(QUEUE_ROOM)?.size ?? 0;
    const last = lastSent.get(nsp);
    const since = last ? Date.now() - last.at : Infinity;
    const every = Math.max(PROGRESS_EVERY_MS, (queued / PROGRESS_WRITES_PER_S) * 1000);
    const due = last?.key !== key ? since >= every : last.counts !== counts && since >= Math.max(COUNTS_EVERY_MS, every);
    if (queued === 0 || !due) return;
    lastSent.set(nsp, { key, counts, at: Date.now() });
    nsp.local.to(QUEUE_ROOM).emit('queue:progress', progress);
    deps.onProgress?.(queued);
  });
  return { namespaces: () => children.list() };
}
