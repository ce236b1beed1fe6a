import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import type { Ack, ClientToServerEvents, ErrorBody, EventLayout, HandshakeAuth, SeatState, SeatStateFormat, ServerToClientEvents } from '../../../server/contracts';
import { eventNamespace } from '../../../server/contracts/namespace';
import { LayoutMismatchError } from '../../../server/realtime/compact';
import { SeatMap } from '../../../server/realtime/seat-map';
import { EventlyError } from './errors';
import type { CommandName, CommandPayload, CommandReply } from './types';

/** A typed Socket.IO socket of an event namespace. */
export type EventlySocket = Socket<ServerToClientEvents, ClientToServerEvents>;
export type WatchState = 'connecting' | 'live' | 'reconnecting' | 'closed';

export interface WatchOptions {
  /** `compact` (default): fetch the layout once and receive seat state in layout order, binary; `json`: one object per seat. */
  format?: SeatStateFormat;
  /** The map to keep live (a new one by default). */
  map?: SeatMap;
  /** How long a command waits for its ack before rejecting with TIMEOUT (default 10 s). */
  commandTimeoutMs?: number;
  /** Passed to socket.io-client's `io()` (e.g. `transports`, `reconnectionDelayMax`); `auth` is always ours. */
  socket?: Partial<ManagerOptions & SocketOptions>;
}

/** What EventlyClient hands a watch: where to connect, the current token, and how to fetch the layout. */
export interface WatchDeps {
  baseUrl: string;
  eventId: number;
  token: () => string | undefined;
  layout: () => Promise<EventLayout>;
}

/**
 * One event's seats kept live in a SeatMap (the highest version per seat wins). The handshake `auth` is a
 * function socket.io-client calls on every (re)connect, so each reconnect sends the current token and the map's
 * cursor: the server replays what changed since (a replay window, else a fresh snapshot) and the map is exact
 * again. A compact payload for another layout version refetches the layout and resyncs from a snapshot.
 */
export class SeatWatch {
  readonly map: SeatMap;
  readonly socket: EventlySocket;
  /** Resolves once the first snapshot is in the map; rejects if the layout cannot be had or the handshake is refused. */
  readonly ready: Promise<void>;
  state: WatchState = 'connecting';
  private format: SeatStateFormat;
  private snapshots = 0;
  private readonly timeoutMs: number;
  private readonly changeListeners = new Set<(seats: SeatState[], fromSnapshot: boolean) => void>();
  private readonly stateListeners = new Set<(state: WatchState, error?: EventlyError) => void>();

  constructor(private readonly deps: WatchDeps, options: WatchOptions = {}) {
    this.map = options.map ?? new SeatMap();
    this.format = options.format ?? 'compact';
    this.timeoutMs = options.commandTimeoutMs ?? 10_000;
    this.socket = io(new URL(eventNamespace(deps.eventId), deps.baseUrl).toString(), {
      transports: ['websocket', 'polling'],
      ...options.socket,
      autoConnect: false,
      auth: (cb) => cb(this.handshake()),
    }) as EventlySocket;
    this.ready = new Promise<void>((resolve, reject) => {
      const off = this.onChange((_seats, fromSnapshot) => {
        if (fromSnapshot) (off(), offState(), resolve());
      });
      const offState = this.onState((state, error) => {
        if (state === 'closed') (off(), offState(), reject(error ?? new EventlyError({ code: 'CLOSED', message: 'watch closed before its first snapshot' })));
      });
    });
    // Nobody awaiting `ready` must not make a refused handshake an unhandled rejection.
    this.ready.catch(() => undefined);
    this.listen();
    void this.start();
  }

  /**
   * Sends a command and resolves with the `data` of its `{ok: true, data}` answer; rejects with an EventlyError
   * (the server's code for `{ok: false}`, TIMEOUT when no answer comes in time).
   */
  async send<E extends CommandName>(name: E, payload: CommandPayload<E>, opts: { timeoutMs?: number } = {}): Promise<CommandReply<E>> {
    type Emit = { emitWithAck(event: string, payload: unknown): Promise<Ack<CommandReply<E>>> };
    let ack: Ack<CommandReply<E>>;
    try {
      ack = await (this.socket.timeout(opts.timeoutMs ?? this.timeoutMs) as unknown as Emit).emitWithAck(name, payload);
    } catch (cause) {
      throw new EventlyError({ code: 'TIMEOUT', message: `no answer to ${name}` }, undefined, { cause });
    }
    if (!ack.ok) throw new EventlyError(ack.error);
    return ack.data;
  }

  /** Calls `fn` with the seats that actually changed (`fromSnapshot` for a snapshot); returns an unsubscribe. */
  onChange(fn: (seats: SeatState[], fromSnapshot: boolean) => void): () => void {
    this.changeListeners.add(fn);
    return () => this.changeListeners.delete(fn);
  }

  /** Calls `fn` on every connection state change (with the error that closed or interrupted it, if any). */
  onState(fn: (state: WatchState, error?: EventlyError) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  /** Resolves once `predicate(map)` holds (checked now and after every change); rejects with TIMEOUT after `timeoutMs`. */
  waitFor(predicate: (map: SeatMap) => boolean, timeoutMs = 10_000): Promise<void> {
    if (predicate(this.map)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (off(), reject(new EventlyError({ code: 'TIMEOUT', message: 'the seat map did not reach the expected state in time' }))), timeoutMs);
      const off = this.onChange(() => {
        if (predicate(this.map)) (clearTimeout(timer), off(), resolve());
      });
    });
  }

  /** Disconnects for good. */
  close(): void {
    this.socket.disconnect();
    this.setState('closed');
  }

  private handshake(): HandshakeAuth {
    const auth: HandshakeAuth = { format: this.format };
    const token = this.deps.token();
    if (token) auth.token = token;
    // After a first snapshot the cursor (even 0: "nothing changed yet") asks for catch-up, not a new snapshot.
    if (this.snapshots > 0) auth.cursor = this.map.cursor;
    return auth;
  }

  private async start(): Promise<void> {
    try {
      if (this.format === 'compact' && !this.map.layoutVersion) await this.loadLayout();
    } catch (err) {
      this.setState('closed', err instanceof EventlyError ? err : new EventlyError({ code: 'LAYOUT_UNAVAILABLE', message: String(err) }));
      return;
    }
    if (this.state !== 'closed') this.socket.connect();
  }

  private async loadLayout(): Promise<void> {
    const layout = await this.deps.layout();
    this.map.useLayout(layout.layoutVersion, layout.seats.map((s) => s.id));
  }

  private listen(): void {
    const s = this.socket;
    s.on('connect', () => this.setState('live'));
    s.on('disconnect', (reason) => {
      if (this.state === 'closed') return;
      // A server-side disconnect does not reconnect by itself; ask for it (the map catches up on return).
      if (reason === 'io server disconnect') s.connect();
      this.setState('reconnecting');
    });
    s.on('connect_error', (err) => {
      const body = (err as Error & { data?: ErrorBody }).data;
      const error = new EventlyError(body?.code ? body : { code: 'CONNECT_FAILED', message: err.message }, undefined, { cause: err });
      // A handshake the server refused (bad token, bad auth) is not retried by socket.io-client: the watch is over.
      if (s.active) return this.setState('reconnecting', error);
      this.setState('closed', error);
      s.disconnect(); // releases the Manager's connection, which a refused namespace handshake leaves open
    });
    s.on('server:reconnect', () => {
      // The node is draining: go elsewhere, spread out so a whole room does not reconnect at once.
      s.disconnect();
      setTimeout(() => this.state !== 'closed' && s.connect(), 200 + Math.random() * 800);
    });
    s.on('seats:snapshot', (snap) => this.apply(() => this.map.applySnapshot(snap), true));
    s.on('seats:snapshot:compact', (snap) => this.apply(() => this.map.applyCompactSnapshot(snap), true));
    s.on('seats:changed', (batch) => this.apply(() => this.map.applyChanges(batch), false));
    s.on('seats:changed:compact', (batch) => this.apply(() => this.map.applyCompactChanges(batch), false));
  }

  private apply(merge: () => SeatState[], fromSnapshot: boolean): void {
    let changed: SeatState[];
    try {
      changed = merge();
    } catch (err) {
      if (!(err instanceof LayoutMismatchError)) throw err;
      void this.resyncLayout();
      return;
    }
    if (fromSnapshot) this.snapshots++;
    if (changed.length || fromSnapshot) for (const fn of this.changeListeners) fn(changed, fromSnapshot);
  }

  /** The venue's layout changed under us: fetch it again and start over from a snapshot (JSON if that fails). */
  private async resyncLayout(): Promise<void> {
    this.socket.disconnect();
    try {
      await this.loadLayout();
    } catch {
      this.format = 'json';
    }
    this.snapshots = 0;
    if (this.state !== 'closed') this.socket.connect();
  }

  private setState(state: WatchState, error?: EventlyError): void {
    if (this.state === 'closed') return;
    this.state = state;
    for (const fn of this.stateListeners) fn(state, error);
  }
}
