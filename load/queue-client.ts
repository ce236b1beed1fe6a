import { io as ioc } from 'socket.io-client';
import type { QueueStatus, SeatsSnapshot } from '../packages/client/src';
import { queueNamespace } from '../packages/client/src';
import type { LayoutOrder } from '../packages/client/src';
import { connect, fetchLayoutOrder, firstSnapshot, type ClientSocket } from './clients';
import { Latency, pool, wallNow } from './stats';

/** Queued buyers (the `queue` scenario): what one client process runs. */
export interface QueueJob {
  kind: 'queue';
  urls: string[];
  eventId: number;
  tokens: string[];
  connectConcurrency: number;
  /** What an admitted buyer does after its first hold: book, or do nothing (its window lapses); else it leaves. */
  plan: { book: number; idle: number };
}

/** What a queue job reports when it finishes. */
export interface QueueDone {
  joined: number;
  failures: number;
  progressMessages: number;
  admitted: number;
  holds: number;
  /** Refused commands by error code (a hold refused NOT_ADMITTED after an admission would be a bug). */
  refused: Record<string, number>;
  /** A waiting buyer whose position grew between two progress messages (must stay 0). */
  movedBack: number;
  /** Admission notice → first hold acknowledged (opening the seat map and its snapshot included), HDR-encoded. */
  admitToHold: string;
  /** [admitted at, done at] per admitted buyer (wall ms): done = booked, left, or the window's end. */
  shopping: [number, number][];
}

interface Client {
  token: string;
  url: string;
  socket: ClientSocket;
  ticket: number | null;
  position: number | null;
}

/**
 * Connects every token to `/queue/<id>` (spread over the nodes), joins, and keeps counting what arrives: one
 * `queue:progress` per second per socket while the line moves, and `queue:admitted`, on which the buyer opens the
 * seat map (`/events/<id>`, first snapshot), holds one free seat, and books, leaves or idles.
 */
export async function runQueueClients(job: QueueJob, post: (m: unknown) => void, next: (type: string) => Promise<unknown>): Promise<void> {
  const done: QueueDone = { joined: 0, failures: 0, progressMessages: 0, admitted: 0, holds: 0, refused: {}, movedBack: 0, admitToHold: '', shopping: [] };
  const hist = new Latency();
  const clients: Client[] = [];
  const refuse = (code: string) => (done.refused[code] = (done.refused[code] ?? 0) + 1);
  // The seat map in its compact form, as the demo opens it: the layout's seat order fetched once (a browser has it cached).
  const order: LayoutOrder = await fetchLayoutOrder(job.urls[0]!, job.eventId);
  const take = (c: Client, s: QueueStatus) => {
    c.ticket = s.ticket;
    c.position = s.position;
  };

  const shop = async (c: Client, until: number) => {
    const t0 = wallNow();
    done.admitted++;
    const seats = connect(c.url, job.eventId, c.token, order);
    try {
      const snap: SeatsSnapshot = await firstSnapshot(seats, 60_000, order);
      const free = snap.seats.filter((s) => s.status === 'available');
      let held: { holdToken: string } | undefined;
      for (let attempt = 0; attempt < 3 && !held && free.length; attempt++) {
        const seat = free[Math.floor(Math.random() * free.length)]!;
        const ack = await seats.timeout(30_000).emitWithAck('seat:hold', { seatIds: [seat.id] });
        if (ack.ok) held = ack.data;
        else refuse(ack.error.code);
      }
      if (!held) return;
      hist.recordMs(wallNow() - t0);
      done.holds++;
      const r = Math.random();
      if (r < job.plan.book) {
        const ack = await seats.timeout(30_000).emitWithAck('booking:confirm', { holdToken: held.holdToken, idempotencyKey: `queue-load-${c.token.slice(-16)}` });
        if (!ack.ok) refuse(ack.error.code);
        done.shopping.push([t0, wallNow()]);
      } else if (r < job.plan.book + job.plan.idle) {
        done.shopping.push([t0, until]);
      } else {
        const ack = await c.socket.timeout(30_000).emitWithAck('queue:leave', {});
        if (!ack.ok) refuse(ack.error.code);
        done.shopping.push([t0, wallNow()]);
      }
    } catch {
      refuse('CLIENT_ERROR');
    } finally {
      seats.close();
    }
  };

  await pool(job.tokens, job.connectConcurrency, async (token, i) => {
    const url = job.urls[i % job.urls.length]!;
    const socket = ioc(`${url}${queueNamespace(job.eventId)}`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true, timeout: 60_000 }) as unknown as ClientSocket;
    const c: Client = { token, url, socket, ticket: null, position: null };
    clients.push(c);
    socket.on('queue:progress', (p) => {
      done.progressMessages++;
      if (c.ticket === null) return;
      const position = Math.max(1, c.ticket - p.head);
      if (c.position !== null && position > c.position) done.movedBack++;
      c.position = position;
    });
    socket.on('queue:admitted', (n) => void shop(c, Date.parse(n.admittedUntil)));
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      const ack = await socket.timeout(60_000).emitWithAck('queue:join', {});
      if (!ack.ok) throw new Error(ack.error.code);
      take(c, ack.data);
      done.joined++;
    } catch {
      done.failures++;
    }
  });
  post({ type: 'connected', joined: done.joined, failures: done.failures });

  // The lobby was drawn (sale start): every client learns its ticket in the background (as the demo does, each
  // once), while admissions already run. From here on the line moves: count only these messages.
  await next('drawn');
  done.progressMessages = 0;
  void pool(clients, job.connectConcurrency, async (c) => {
    const ack = await c.socket.timeout(60_000).emitWithAck('queue:status', {}).catch(() => undefined);
    if (ack?.ok && c.ticket === null) take(c, ack.data);
  });
  const progress = setInterval(() => post({ type: 'progress', counters: { admitted: done.admitted, holds: done.holds, progressMessages: done.progressMessages } }), 500);
  await next('finish');
  clearInterval(progress);
  for (const c of clients) c.socket.close();
  done.admitToHold = hist.encode();
  post({ type: 'done', ...done });
}
