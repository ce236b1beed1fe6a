import { io, type Socket } from 'socket.io-client';
import type { Ack, ClientToServerEvents, QueueStatus, ServerToClientEvents } from '../../packages/client/src';
import { queueNamespace } from '../../packages/client/src';
import { api, session } from './api';
import { authPanel } from './auth-panel';
import { fill, h, mmss } from './dom';
import { plainMessage } from './messages';

type QueueSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** "About 3 min", from the server's estimate; null when the line does not move yet. */
function waitWords(seconds: number | null): string {
  if (seconds === null) return 'working it out…';
  if (seconds < 60) return 'less than a minute';
  return `about ${Math.round(seconds / 60)} min`;
}

/**
 * The waiting room page in front of the seat picker. Resolves at once when the event has no waiting room (or the
 * account is already admitted); otherwise shows the buyer's place and estimated wait, kept live by the
 * `/queue/<id>` socket, and resolves when `queue:admitted` arrives. Position is `ticket - head`: the server sends
 * one `head` per second to everyone in line, and each page works out its own position from it.
 */
export async function waitingRoom(root: HTMLElement, eventId: number, eventName: string): Promise<{ admittedUntil: string | null }> {
  const first = await api<QueueStatus>('GET', `/api/events/${eventId}/queue`);
  if (first.state === 'off' || first.state === 'admitted') return { admittedUntil: first.admittedUntil };

  return new Promise((resolve) => {
    const stateLine = h('p', { class: 'queue-state', id: 'queue-state' });
    const position = h('strong', { id: 'queue-position' });
    const wait = h('strong', { id: 'queue-wait' });
    const details = h('p', { class: 'sub', id: 'queue-details' });
    const message = h('div', { class: 'message', id: 'message', role: 'alert' });
    const again = h('button', { type: 'button', class: 'primary', id: 'queue-rejoin', hidden: true, text: 'Join the queue again', onclick: () => void join() });
    const card = h('section', { class: 'panel queue', id: 'queue-panel', 'aria-live': 'polite' }, stateLine, h('p', {}, 'Your place: ', position), h('p', {}, 'Estimated wait: ', wait), details, again);
    let socket: QueueSocket | undefined;
    let status: QueueStatus = first;

    const render = () => {
      document.body.dataset.queueState = status.state;
      position.textContent = status.position === null ? '—' : String(status.position);
      wait.textContent = status.state === 'waiting' ? waitWords(status.estimatedWaitSeconds) : '—';
      again.hidden = status.state !== 'done' && status.state !== 'none';
      const starts = status.saleStartsAt ? new Date(status.saleStartsAt).toLocaleTimeString() : '';
      if (!session.get()) stateLine.textContent = 'Tickets for this event are sold through a waiting room. Sign in to join the queue.';
      else if (status.state === 'lobby') stateLine.textContent = `You are in. The sale starts at ${starts}: everyone here by then gets a random place in line, so there is no need to hurry.`;
      else if (status.state === 'waiting') stateLine.textContent = 'You are in line. Keep this page open: the seat map opens when it is your turn.';
      else if (status.state === 'done') stateLine.textContent = status.doneReason === 'expired' ? 'Your shopping time ended.' : 'You left the line.';
      else stateLine.textContent = 'Join the queue to buy tickets.';
      details.textContent = `${status.line.waiting} in line, ${status.line.lobby} waiting for the start${status.line.ratePerMinute ? `, about ${status.line.ratePerMinute} let in per minute` : ''}.`;
    };
    const take = (ack: Ack<QueueStatus>) => {
      if (!ack.ok) {
        message.textContent = plainMessage(ack.error);
        message.dataset.kind = 'error';
        message.dataset.code = ack.error.code;
        return;
      }
      message.textContent = '';
      status = ack.data;
      render();
      if (status.state === 'admitted' || status.state === 'off') done(status.admittedUntil);
    };
    const join = async () => take(await socket!.timeout(10_000).emitWithAck('queue:join', {}).catch(() => ({ ok: false as const, error: { code: 'NETWORK', message: 'no answer' } })));
    const done = (admittedUntil: string | null) => {
      socket?.close();
      resolve({ admittedUntil });
    };
    const connect = () => {
      const s = session.get();
      if (!s) return;
      socket = io(queueNamespace(eventId), { transports: ['websocket', 'polling'], auth: (cb) => cb({ token: session.get()?.token ?? '' }) });
      // On every (re)connect: join again. The server keeps the account's place, so this never moves it back.
      socket.on('connect', () => void join());
      socket.on('queue:progress', (p) => {
        const drawnNow = p.drawn && !status.line.drawn;
        status = { ...status, line: p };
        if (status.ticket !== null) {
          const pos = Math.max(1, status.ticket - p.head);
          status = { ...status, position: pos, estimatedWaitSeconds: p.ratePerMinute > 0 ? Math.ceil((pos / p.ratePerMinute) * 60) : null };
        }
        render();
        // The lobby was drawn: ask for our ticket once, a little later than everyone else on average.
        if (drawnNow && status.state === 'lobby') setTimeout(() => void socket?.timeout(10_000).emitWithAck('queue:status', {}).then(take, () => undefined), Math.random() * 2000);
      });
      socket.on('queue:admitted', (n) => done(n.admittedUntil));
    };

    document.title = `Waiting room · ${eventName}`;
    fill(
      root,
      h('header', { class: 'top' }, h('a', { href: '/', class: 'brand', text: 'Evently' }), h('div', { class: 'title' }, h('h1', { text: eventName }), h('p', { class: 'sub', text: 'Waiting room' })), authPanel(() => location.reload())),
      message,
      h('main', { class: 'home' }, card),
    );
    render();
    connect();
    document.body.dataset.ready = 'true';
  });
}

/** A line above the seat map while the buyer is admitted: how long the shopping window has left. */
export function admissionBanner(admittedUntil: string): HTMLElement {
  const el = h('p', { class: 'message', id: 'admission-banner', 'data-kind': 'info' });
  const tick = () => {
    const left = Date.parse(admittedUntil) - Date.now();
    el.textContent = left > 0 ? `It is your turn: you have ${mmss(left)} to choose and book.` : 'Your shopping time ended.';
    if (left > 0) setTimeout(tick, 1000);
  };
  tick();
  return el;
}
