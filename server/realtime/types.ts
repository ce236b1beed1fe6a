import type { Namespace, Server, Socket } from 'socket.io';
import type { AuthUser } from '../accounts/auth-user';
import type { ClientToServerEvents, ServerToClientEvents } from './protocol';

/** Per-socket state set by the handshake. */
export interface SocketData {
  eventId: number;
  user?: AuthUser;
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface InterServerEvents {}

export type IoServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type EventNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type EventSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** Room of one user's sockets inside an event namespace (personal notices). */
export const userRoom = (userId: number): string => `user:${userId}`;
/** Room of box office and admin sockets (they see who holds what). */
export const STAFF_ROOM = 'staff';
