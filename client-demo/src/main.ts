import { errorBody } from './api';
import { boxOffice } from './box-office';
import { h } from './dom';
import { home } from './home';
import { plainMessage } from './messages';
import { seatPicker } from './picker';

/** One bundle, three pages: `/`, `/events/<id>` and `/box-office/<id>` (the server sends the same HTML). */
async function start(): Promise<void> {
  const root = document.getElementById('app')!;
  const path = location.pathname;
  try {
    let m: RegExpExecArray | null;
    if ((m = /^\/events\/(\d+)\/?$/.exec(path))) await seatPicker(root, Number(m[1]));
    else if ((m = /^\/box-office\/(\d+)\/?$/.exec(path))) await boxOffice(root, Number(m[1]));
    else await home(root);
  } catch (err) {
    root.replaceChildren(h('main', { class: 'home' }, h('h1', { text: 'Evently' }), h('p', { class: 'message', role: 'alert', 'data-kind': 'error', text: plainMessage(errorBody(err)) }), h('p', {}, h('a', { href: '/', text: 'All events' }))));
  }
  document.body.dataset.ready = 'true';
}

void start();
