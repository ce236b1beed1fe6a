import { api, session } from './api';
import { authPanel } from './auth-panel';
import { fill, h, money } from './dom';

interface EventItem {
  id: number;
  name: string;
  description: string | null;
  startsAt: string;
  status: string;
  currency: string;
  prices: { category: string; priceCents: number }[];
}

/** `/`: the events on sale, with links to the seat picker (and the box office for staff). */
export async function home(root: HTMLElement): Promise<void> {
  const list = h('ul', { class: 'events', id: 'events' });
  const render = async () => {
    const page = await api<{ items: EventItem[]; total: number }>('GET', '/api/events?limit=50&sort=startsAt');
    const staff = session.get()?.user.role === 'admin' || session.get()?.user.role === 'box_office';
    if (!page.items.length) {
      fill(list, h('li', { text: 'No events yet.' }));
      return;
    }
    fill(
      list,
      page.items.map((e) => {
        const from = Math.min(...e.prices.map((p) => p.priceCents));
        return h(
          'li',
          { class: 'event-card' },
          h('h2', {}, h('a', { href: `/events/${e.id}`, text: e.name })),
          h('p', { class: 'sub', text: `${new Date(e.startsAt).toLocaleString()} · ${e.status.replace('_', ' ')}${Number.isFinite(from) ? ` · from ${money(from, e.currency)}` : ''}` }),
          e.description ? h('p', { text: e.description }) : null,
          h('p', { class: 'links' }, h('a', { href: `/events/${e.id}`, class: 'button primary', text: 'Choose seats' }), staff ? h('a', { href: `/box-office/${e.id}`, class: 'button', text: 'Box office' }) : null),
        );
      }),
    );
  };
  document.title = 'Evently';
  fill(
    root,
    h('header', { class: 'top' }, h('a', { href: '/', class: 'brand', text: 'Evently' }), h('div', { class: 'title' }, h('h1', { text: 'Events' })), authPanel(() => void render())),
    h('main', { class: 'home' }, list, h('p', { class: 'sub' }, 'API docs: ', h('a', { href: '/docs', text: '/docs' }))),
  );
  await render();
}
