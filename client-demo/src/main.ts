import { boxOffice } from './box-office';
import { h } from './dom';
import { home } from './home';
import { plainMessage } from './messages';
import { seatPicker } from './picker';
import { admissionBanner, waitingRoom } from './queue-page';
import { api, errorBody, type EventDetail } from './api';

/** One bundle, three pages: `/`, `/events/<id>` and `/box-office/<id>` (the server sends the same HTML). */
async function start(): Promise<void> {
  const root = document.getElementById('app')!;
  const path = location.pathname;
  try {
    let m: RegExpExecArray | null;
    if ((m = /^\/events\/(\d+)\/?$/.exec(path))) {
      const eventId = Number(m[1]);
      // The waiting room first (it returns at once when the event has none), then the seat map.
      const event = await api<EventDetail>('GET', `/api/events/${eventId}?layout=false`);
      const { admittedUntil } = await waitingRoom(root, eventId, event.name);
      await seatPicker(root, eventId);
      if (admittedUntil) root.prepend(admissionBanner(admittedUntil));
    }
    else if ((m = /^\/box-office\/(\d+)\/?$/.exec(path))) await boxOffice(root, Number(m[1]));
    else await home(root);
  } catch (err) {
    root.replaceChildren(h('main', { class: 'home' }, h('h1', { text: 'Evently' }), h('p', { class: 'message', role: 'alert', 'data-kind': 'error', text: plainMessage(errorBody(err)) }), h('p', {}, h('a', { href: '/', text: 'All events' }))));
  }
  document.body.dataset.ready = 'true';
}

void start();
