import type { Server as HttpServer } from 'node:http';
import { Server, type BroadcastOperator } from 'socket.io';
import { isStaff } from '../shared/auth-user';
import { registerBookingHandlers } from '../bookings/socket-handlers';
import { registerSeatHandlers } from '../seats/socket-handlers';
import { registerGaHandlers } from '../ga/socket-handlers';
import { registerBestHandlers } from '../seats/best-handlers';
import { registerWaitlistHandlers } from '../waitlist/socket-handlers';
import { syncPayload } from '../contracts/seats';
import type { Services } from './services';
import type { Clock } from '../shared/clock';
import { AppError, toErrorBody, ValidationError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { Broadcaster } from '../realtime/broadcaster';
import { manageChildNamespaces } from '../realtime/child-namespaces';
import { socketClientIp } from '../realtime/client-ip';
import { applyUser, CommandTable, recheckUser, type CommandContext } from '../realtime/commands';
import { encodeChanges, encodeSnapshot } from '../realtime/compact';
import type { SeatRelay } from '../realtime/seat-relay';
import { authRefreshPayload, eventNamespace, handshakeAuth, type CompactSeatsSnapshot, type SeatsSnapshot, type ServerToClientEvents } from '../contracts';
import { SharedDelivery, SnapshotLoader } from '../realtime/snapshot-loader';
import { COMPACT_ROOM, STAFF_ROOM, userRoom, WATCHERS_ROOM, type EventNamespace, type EventSocket, type IoServer, type SocketData } from '../realtime/types';

export interface RealtimeDeps {
  services: Services;
  clock: Clock;
  logger: Logger;
  broadcaster: Broadcaster;
  corsOrigins: string[];
  /** Socket.IO adapter factory (the Redis adapter with several nodes); in-memory when absent. */
  adapter?: Parameters<Server['adapter']>[0];
  /** Resolves once the adapter's subscription for a room is in place (sharded Redis adapter); see RedisConnections. */
  roomSubscribed?: (nsp: EventNamespace, room: string) => Promise<void>;
  /** Seat changes between nodes (several nodes): the node receives an event's while it has watchers of it. */
  relay?: SeatRelay;
  commandHooks?: Pick<CommandContext, 'beforeCommand' | 'afterCommand'>;
  /** Trust X-Forwarded-For for the client's address (TRUST_PROXY), as REST does. */
  trustProxy?: boolean;
  /** True while the node drains (SIGTERM): new connections are refused so clients go to another node. */
  isShuttingDown?: () => boolean;
}

const NAMESPACE = /^\/events\/([1-9][0-9]{0,9})$/;

/** A socket, or a local broadcast to several: where a snapshot goes. */
type SnapshotTarget = Pick<BroadcastOperator<ServerToClientEvents, SocketData>, 'emit'>;

/** An Error Socket.IO passes to the client as `connect_error`, with `data` carrying our error code. */
function connectError(err: unknown): Error & { data: unknown } {
  const { body } = toErrorBody(err);
  return Object.assign(new Error(body.message), { data: body });
}

/**
 * Creates the Socket.IO server: one namespace per event (`/events/<id>`), handshake auth, the initial
 * snapshot or catch-up, and the seat and booking commands. Returns the server and a way to reach an event's
 * namespace (created on demand, so a node with no watchers of an event can still relay and notify through Redis).
 */
export function createRealtime(
  httpServer: HttpServer,
  deps: RealtimeDeps,
): { io: IoServer; namespaceOf: (eventId: number) => EventNamespace; eventNamespaces: () => EventNamespace[]; namespaceCount: () => number } {
  const { services, clock, logger } = deps;
  const io: IoServer = new Server(httpServer, {
    // WebSocket first; long-polling stays as the fallback (needs sticky sessions behind a balancer).
    transports: ['websocket', 'polling'],
    serveClient: false,
    maxHttpBufferSize: 64 * 1024,
    pingInterval: 20000,
    pingTimeout: 20000,
    connectionStateRecovery: undefined,
    cors: deps.corsOrigins.length ? { origin: deps.corsOrigins, credentials: false } : undefined,
    allowRequest: (req, callback) => {
      if (deps.isShuttingDown?.()) return callback('server shutting down', false);
      // Browsers always send Origin: refuse foreign ones (no CORS means same-origin only).
      const origin = req.headers.origin;
      if (!origin) return callback(null, true);
      const host = req.headers.host;
      const sameOrigin = !!host && (origin === `http://${host}` || origin === `https://${host}`);
      callback(null, sameOrigin || deps.corsOrigins.includes(origin));
    },
  });
  if (deps.adapter) io.adapter(deps.adapter);

  const parent = io.of(NAMESPACE);
  // Refused handshakes and emptied namespaces leave nothing behind (no namespace, no Redis subscriptions).
  const children = manageChildNamespaces<EventNamespace>(io, parent, logger);
  // Other nodes' seat changes are received for an event while this node has watchers of it (see SeatRelay).
  const relay = deps.relay;
  if (relay) {
    io.on('new_namespace', (nsp) => {
      const eventId = Number(NAMESPACE.exec(nsp.name)?.[1]);
      if (!eventId) return;
      nsp.adapter.on('create-room', (room: string) => room === WATCHERS_ROOM && relay.watch(eventId));
      nsp.adapter.on('delete-room', (room: string) => room === WATCHERS_ROOM && relay.unwatch(eventId));
    });
  }
  const namespaceOf = (eventId: number): EventNamespace => children.get(eventNamespace(eventId));

  /**
   * Sends one snapshot to every socket that shared its read with ONE broadcast per namespace: Socket.IO encodes
   * a broadcast once, `socket.emit` once per socket (a 20,000-seat snapshot is ~900 KB of JSON, 3 ms each).
   * Every socket is in the room named by its id; `local` keeps the Redis adapter from publishing it to other nodes.
   */
  const sendSnapshot =
    <T>(emit: (to: SnapshotTarget, value: T) => void) =>
    (value: T, sockets: EventSocket[]): void => {
      const ids = new Map<EventNamespace, string[]>();
      const seen = new Set<EventSocket>();
      for (const socket of sockets) {
        if (!socket.connected) continue;
        // A socket that asked twice for the same read (seats:sync) still gets one snapshot per request.
        if (seen.has(socket)) {
          emit(socket, value);
          continue;
        }
        seen.add(socket);
        const list = ids.get(socket.nsp);
        if (list) list.push(socket.id);
        else ids.set(socket.nsp, [socket.id]);
      }
      for (const [nsp, list] of ids) emit(nsp.local.to(list), value);
    };
  const sendJson = sendSnapshot<SeatsSnapshot>((to, snap) => to.emit('seats:snapshot', snap));
  // Buyers and anonymous viewers share one read; box office and admin share another (with holders), never mixed.
  const snapshots = new SharedDelivery(new SnapshotLoader<number, SeatsSnapshot>((eventId) => services.seats.snapshot(eventId)), sendJson);
  const staffSnapshots = new SharedDelivery(new SnapshotLoader<number, SeatsSnapshot>((eventId) => services.staffView.staffSnapshot(eventId)), sendJson);
  // Compact sockets share a read of their own, encoded once per read (not per socket) in layout order.
  const compactSnapshots = new SharedDelivery(
    new SnapshotLoader<number, CompactSeatsSnapshot>(async (eventId) => {
      const [layout, snapshot] = await Promise.all([services.layouts.forEvent(eventId), services.seats.snapshot(eventId)]);
      return encodeSnapshot(snapshot, layout.order);
    }),
    sendSnapshot<CompactSeatsSnapshot>((to, snap) => to.emit('seats:snapshot:compact', snap)),
  );
  const ctx: CommandContext = { clock, logger, ...deps.commandHooks, currentUser: (user) => services.access.current(user) };

  parent.use(async (socket, next) => {
    try {
      const eventId = Number(NAMESPACE.exec(socket.nsp.name)![1]);
      const auth = handshakeAuth.safeParse(socket.handshake.auth ?? {});
      if (!auth.success) {
        throw new ValidationError("Invalid handshake auth: send {token?, cursor?, format?: 'json' | 'compact'}", auth.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
      }
      // Checked against the user's current state: a removed or deactivated user's token is refused here.
      if (auth.data.token) socket.data.user = await services.access.authenticate(auth.data.token);
      if (!(await services.events.isWatchable(eventId))) throw new AppError(404, 'EVENT_NOT_FOUND', 'Event not found');
      socket.data.eventId = eventId;
      socket.data.clientIp = socketClientIp(socket, !!deps.trustProxy);
      // Staff batches carry holders, which only the JSON form has room for.
      socket.data.compact = auth.data.format === 'compact' && !(socket.data.user && isStaff(socket.data.user));
      next();
    } catch (err) {
      next(connectError(err));
    }
  });

  const staffSocket = (socket: EventSocket): boolean => !!socket.data.user && isStaff(socket.data.user);
  const sync = async (socket: EventSocket, cursor: number | undefined): Promise<'changes' | 'snapshot'> => {
    const eventId = socket.data.eventId;
    // Cursor 0 means "I have nothing": a full snapshot, not the event's whole change log (or a part of it).
    if (cursor !== undefined && cursor > 0) {
      const changes = await services.seats.changesSince(eventId, cursor);
      if (changes && socket.data.compact) {
        socket.emit('seats:changed:compact', encodeChanges(changes, (await services.layouts.forEvent(eventId)).order));
        return 'changes';
      }
      if (changes) {
        // Box office and admin sockets see who holds each seat (admin module); buyers never do.
        socket.emit('seats:changed', staffSocket(socket) ? { ...changes, seats: await services.staffView.withHolders(eventId, changes.seats) } : changes);
        return 'changes';
      }
    }
    await (staffSocket(socket) ? staffSnapshots : socket.data.compact ? compactSnapshots : snapshots).deliver(eventId, socket);
    return 'snapshot';
  };

  // Built once per node: every socket shares these listeners (no closures per socket).
  const commands = new CommandTable(ctx);
  registerSeatHandlers(commands, services.seats);
  registerBookingHandlers(commands, services.bookings);
  registerBestHandlers(commands, services.best);
  registerWaitlistHandlers(commands, services.waitlist);
  registerGaHandlers(commands, services.ga);
  commands.add('seats:sync', syncPayload, async (input, _user, socket) => ({ mode: await sync(socket, input.cursor) }), { public: true });
  commands.add(
    'auth:refresh',
    authRefreshPayload,
    async (input, _user, socket) => {
      const next = await services.access.authenticate(input.token);
      if (socket.data.user && socket.data.user.id !== next.id) throw new AppError(403, 'FORBIDDEN', 'A socket cannot switch to another user');
      if (!socket.data.user) void socket.join(userRoom(next.id));
      applyUser(socket, next);
      return { expiresAt: new Date(next.expiresAt).toISOString() };
    },
    { public: true },
  );

  parent.on('connection', (socket: EventSocket) => {
    const user = socket.data.user;
    // The socket joins the event's broadcast room before its snapshot is read (and, with the sharded adapter,
    // the room's channel subscription is acknowledged first, as is the relay's), so no change can fall in between.
    void socket.join(WATCHERS_ROOM);
    if (user) void socket.join(userRoom(user.id));
    if (user && isStaff(user)) void socket.join(STAFF_ROOM);
    if (socket.data.compact) void socket.join(COMPACT_ROOM);
    commands.attach(socket);
    const cursor = (socket.handshake.auth as { cursor?: number } | undefined)?.cursor;
    const rooms = socket.data.compact ? [WATCHERS_ROOM, COMPACT_ROOM] : [WATCHERS_ROOM];
    const subscribed = Promise.all([...rooms.map((room) => deps.roomSubscribed?.(socket.nsp, room)), relay?.watching(socket.data.eventId)]);
    subscribed.then(() => sync(socket, cursor)).catch((err) => {
      logger.error({ err, eventId: socket.data.eventId }, 'initial sync failed');
      socket.disconnect(true);
    });
  });

  // A user's role or status changed (on any node): their open sockets here re-check it at once.
  services.access.onChange((userId) => {
    for (const nsp of children.list()) {
      for (const sid of nsp.adapter.rooms.get(userRoom(userId)) ?? []) {
        const socket = nsp.sockets.get(sid);
        if (socket) void recheckUser(socket, services.access, logger);
      }
    }
  });

  deps.broadcaster.attach(namespaceOf, { relay: deps.relay, find: (eventId) => children.find(eventNamespace(eventId)) });
  deps.broadcaster.setCompactLayouts((eventId) => services.layouts.forEvent(eventId));
  return { io, namespaceOf, eventNamespaces: () => children.list(), namespaceCount: children.count };
}
