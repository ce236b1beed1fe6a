import type { Namespace, Server, Socket } from 'socket.io';
import type { AuthUser } from '../shared/auth-user';
import type { ClientToServerEvents, ServerToClientEvents } from '../contracts';

/** Per-socket state set by the handshake. */
export interface SocketData {
  eventId: number;
  user?: AuthUser;
  /** The client's address (behind a trusted proxy, the forwarded one): the per-IP hold cap counts by it. */
  clientIp?: string;
  /** Asked for `format: 'compact'` in the handshake (staff sockets get JSON regardless: see contracts/socket.ts). */
  compact?: boolean;
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface InterServerEvents {}

export type IoServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type EventNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type EventSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** Room of one user's sockets inside an event namespace (personal notices). */
export const userRoom = (userId: number): string => `user:${userId}`;
/**
 * Room every socket of an event joins on connection; event-wide broadcasts go to it rather than to the bare
 * namespace. With the sharded Redis adapter a single-room broadcast travels on the room's own channel, to which
 * a node subscribes only while it has a member, so nodes without watchers of the event receive nothing of it.
 */
export const WATCHERS_ROOM = 'watchers';
/** Room of box office and admin sockets (they see who holds what). */
export const STAFF_ROOM = 'staff';
/**
 * Room of sockets that take the compact seat-state form (also members of WATCHERS_ROOM, which carries every other
 * event-wide broadcast). Seat batches go out twice, each encoded once: compact to this room, JSON to the
 * watchers except this room.
 */
export const COMPACT_ROOM = 'compact';
