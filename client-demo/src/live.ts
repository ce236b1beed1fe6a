import { io, type Socket } from 'socket.io-client';
import type { Ack, ClientToServerEvents, ErrorBody, EventLayout, HandshakeAuth, SeatState, ServerToClientEvents } from '../../packages/client/src';
import { eventNamespace, LayoutMismatchError, SeatMap } from '../../packages/client/src';
import { session } from './api';

export type EventSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'offline';

/**
 * One event's live seat states: a Socket.IO connection to `/events/<id>` feeding the shared SeatMap (the
 * highest version per seat wins, the cursor tracks where to resume). The handshake `auth` is a function, so
 * every (re)connect sends the current token and the last cursor: after a drop the server replays only what
 * changed (or a fresh snapshot when the gap is too old), and the map ends up exact again.
 *
 * Given the layout (`GET /api/events/:id/layout`, which the browser caches by its ETag), it asks for the compact
 * form: seat state in layout order, about 20x smaller than JSON for a large venue. Should a compact payload ever
 * name another layout version, it falls back to JSON for the rest of the page's life.
 */
export class LiveSeats {
  readonly map = new SeatMap();
  readonly socket: EventSocket;
  state: ConnectionState = 'connecting';
  /** Time spent applying change batches (map merge + redraw of the changed seats), for the perf test. */
  readonly stats = { snapshots: 0, batches: 0, seatsChanged: 0, lastBatchMs: 0, maxBatchMs: 0, snapshotMs: 0 };
  private readonly changeListeners: ((seats: SeatState[], fromSnapshot: boolean) => void)[] = [];
  private readonly stateListeners: ((s: ConnectionState, detail?: string) => void)[] = [];

  private compact: boolean;

  constructor(
    readonly eventId: number,
    layout?: EventLayout,
  ) {
    this.compact = !!layout;
    if (layout) this.map.useLayout(layout.layoutVersion, layout.seats.map((s) => s.id));
    this.socket = io(eventNamespace(eventId), {
      transports: ['websocket', 'polling'],
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
      auth: (cb) => {
        const auth: HandshakeAuth = this.compact ? { format: 'compact' } : {};
        const s = session.get();
        if (s) auth.token = s.token;
        // After a first snapshot the cursor (even 0: "no change yet") asks for catch-up, not a new snapshot.
        if (this.stats.snapshots > 0) auth.cursor = this.map.cursor;
        cb(auth);
      },
    }) as EventSocket;
    this.socket.on('connect', () => this.setState('live'));
    this.socket.on('disconnect', (reason) => {
      // A server-side disconnect does not reconnect by itself; ask for it (the map catches up on return).
      if (reason === 'io server disconnect') this.socket.connect();
      this.setState('reconnecting');
    });
    this.socket.on('connect_error', (err) => {
      const data = (err as Error & { data?: ErrorBody }).data;
      if (data?.code && ['INVALID_TOKEN', 'TOKEN_EXPIRED', 'TOKEN_REVOKED', 'ACCOUNT_DEACTIVATED', 'UNAUTHORIZED'].includes(data.code)) {
        // A stale, revoked or deactivated token must not lock the page out: drop it and watch anonymously.
        session.clear();
        this.setState('reconnecting', 'Your session expired; please sign in again.');
        this.socket.connect();
        return;
      }
      this.setState(this.socket.active ? 'reconnecting' : 'offline', data?.message ?? err.message);
    });
    const onSnapshot = (apply: () => SeatState[]) => {
      const t0 = performance.now();
      const changed = this.compactOr(apply);
      if (!changed) return;
      this.emitChanges(changed, true);
      this.stats.snapshotMs = performance.now() - t0;
      this.stats.snapshots++;
    };
    this.socket.on('seats:snapshot', (snap) => onSnapshot(() => this.map.applySnapshot(snap)));
    this.socket.on('seats:snapshot:compact', (snap) => onSnapshot(() => this.map.applyCompactSnapshot(snap)));
    const onChanges = (apply: () => SeatState[]) => {
      const t0 = performance.now();
      const changed = this.compactOr(apply);
      if (!changed) return;
      if (changed.length) this.emitChanges(changed, false);
      const ms = performance.now() - t0;
      this.stats.batches++;
      this.stats.seatsChanged += changed.length;
      this.stats.lastBatchMs = ms;
      this.stats.maxBatchMs = Math.max(this.stats.maxBatchMs, ms);
    };
    this.socket.on('seats:changed', (batch) => onChanges(() => this.map.applyChanges(batch)));
    this.socket.on('seats:changed:compact', (batch) => onChanges(() => this.map.applyCompactChanges(batch)));
    this.socket.io.on('reconnect_attempt', () => this.setState('reconnecting'));
    this.socket.on('server:reconnect', () => {
      this.socket.disconnect();
      setTimeout(() => this.socket.connect(), 200 + Math.random() * 800);
    });
  }

  onChange(fn: (seats: SeatState[], fromSnapshot: boolean) => void): void {
    this.changeListeners.push(fn);
  }

  onState(fn: (s: ConnectionState, detail?: string) => void): void {
    this.stateListeners.push(fn);
  }

  /** Reconnects so the handshake carries the new token (after sign-in or sign-out). */
  reconnect(): void {
    this.socket.disconnect();
    this.socket.connect();
  }

  /**
   * Sends a command and resolves with its ack. A command the server does not know is never answered, and a
   * dropped connection cannot answer: both come back as a plain error after `timeoutMs`, never a hang.
   */
  async call<T>(event: string, payload: unknown, timeoutMs = 8000): Promise<Ack<T>> {
    if (!this.socket.connected) return { ok: false, error: { code: 'OFFLINE', message: 'offline' } };
    try {
      return (await (this.socket as unknown as { timeout(ms: number): { emitWithAck(e: string, p: unknown): Promise<Ack<T>> } })
        .timeout(timeoutMs)
        .emitWithAck(event, payload)) as Ack<T>;
    } catch {
      return { ok: false, error: { code: 'NO_ANSWER', message: `no answer to ${event}` } };
    }
  }

  /** Runs a compact apply; on a layout mismatch switches to JSON and reconnects (the map then catches up). */
  private compactOr(apply: () => SeatState[]): SeatState[] | null {
    try {
      return apply();
    } catch (err) {
      if (!(err instanceof LayoutMismatchError)) throw err;
      this.compact = false;
      this.reconnect();
      return null;
    }
  }

  private emitChanges(seats: SeatState[], fromSnapshot: boolean): void {
    for (const fn of this.changeListeners) fn(seats, fromSnapshot);
  }

  private setState(s: ConnectionState, detail?: string): void {
    this.state = s;
    for (const fn of this.stateListeners) fn(s, detail);
  }
}

/** The small "Live / Reconnecting…" badge every page shows. */
export function connectionBadge(live: LiveSeats): HTMLElement {
  const el = document.createElement('span');
  el.className = 'conn';
  el.setAttribute('role', 'status');
  el.id = 'connection';
  const show = (s: ConnectionState, detail?: string) => {
    el.dataset.state = s;
    el.textContent = s === 'live' ? '● Live' : s === 'connecting' ? '○ Connecting…' : s === 'reconnecting' ? '◌ Reconnecting… (changes will catch up)' : '✕ Offline';
    el.title = detail ?? '';
  };
  show(live.state);
  live.onState(show);
  return el;
}
