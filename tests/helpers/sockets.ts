import { io as ioc, type Socket } from 'socket.io-client';
import type { Ack, ClientToServerEvents, HandshakeAuth, SeatsSnapshot, ServerToClientEvents } from '../../packages/client/src';
import { SeatMap } from '../../packages/client/src';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface Watcher {
  socket: ClientSocket;
  map: SeatMap;
  /** Resolves when the first snapshot (or catch-up) has been applied. */
  ready: Promise<void>;
  close(): void;
}

/** Connects a socket.io-client to an event namespace (WebSocket only, no auto-reconnect unless asked). */
export function connect(baseUrl: string, eventId: number, auth: HandshakeAuth = {}, opts: { reconnection?: boolean } = {}): ClientSocket {
  return ioc(`${baseUrl}/events/${eventId}`, {
    auth,
    transports: ['websocket'],
    reconnection: opts.reconnection ?? false,
    forceNew: true,
  }) as ClientSocket;
}

/**
 * Connects and keeps a SeatMap up to date from snapshots and change batches, in either protocol form (a compact
 * watcher's map needs `useLayout` first). `map` continues an earlier watcher's map (reconnect with its cursor);
 * `ready` then also resolves on the first catch-up batch.
 */
export function watch(baseUrl: string, eventId: number, auth: HandshakeAuth = {}, map = new SeatMap()): Watcher {
  const socket = connect(baseUrl, eventId, auth);
  const ready = new Promise<void>((resolve, reject) => {
    socket.on('seats:snapshot', (s: SeatsSnapshot) => {
      map.applySnapshot(s);
      resolve();
    });
    socket.on('seats:snapshot:compact', (s) => {
      map.applyCompactSnapshot(s);
      resolve();
    });
    socket.on('seats:changed', (b) => {
      map.applyChanges(b);
      if (auth.cursor) resolve();
    });
    socket.on('seats:changed:compact', (b) => {
      map.applyCompactChanges(b);
      if (auth.cursor) resolve();
    });
    socket.on('connect_error', (err) => reject(err));
  });
  return { socket, map, ready, close: () => socket.close() };
}

/** Resolves once `socket` is connected; rejects with its `connect_error`. */
export function connected<S extends { once(ev: 'connect' | 'connect_error', fn: (err?: unknown) => void): unknown }>(socket: S): Promise<S> {
  return new Promise<S>((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/** Emits a command and resolves with its ack. */
export function send<E extends keyof ClientToServerEvents>(
  socket: ClientSocket,
  event: E,
  payload: Parameters<ClientToServerEvents[E]>[0],
  timeoutMs = 30000,
): Promise<Parameters<Parameters<ClientToServerEvents[E]>[1]>[0]> {
  return (socket as any).timeout(timeoutMs).emitWithAck(event, payload);
}

/** Resolves when `predicate` holds, polling every 20 ms; rejects after `timeoutMs`. */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function connectError(socket: ClientSocket): Promise<Error & { data?: any }> {
  return new Promise((resolve) => socket.on('connect_error', (err) => resolve(err as Error & { data?: any })));
}

export type { Ack };
