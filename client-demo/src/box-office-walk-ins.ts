import type { LayoutSeat } from './api';
import { fill, h, mmss } from './dom';

/** Seats held at the counter for a walk-in customer (no account), until booked, released or lapsed. */
export interface WalkInHold {
  token: string;
  customer: { name: string; email?: string };
  seatIds: number[];
  expiresAt: string;
}

/** A seat in few characters ("Stalls A12"), for lists. */
export const short = (s: LayoutSeat) => `${s.section} ${s.row}${s.number}`;

/** "Walk-in holds": each with its customer, seats, a countdown, and Book / Release. */
export class WalkInList {
  readonly element = h('section', { class: 'panel', id: 'walk-ins' });
  private timer: number | undefined;

  constructor(
    private readonly seatById: Map<number, LayoutSeat>,
    private readonly actions: { book(w: WalkInHold): void; release(token: string): void },
  ) {}

  render(walkIns: WalkInHold[]): void {
    const walkInPanel = this.element;
    const seatById = this.seatById;
    clearInterval(this.timer);
    if (!walkIns.length) {
      fill(walkInPanel, h('h2', { text: 'Walk-in holds' }), h('p', { text: 'None yet.' }));
      return;
    }
    const timers: [HTMLElement, string][] = [];
    fill(
      walkInPanel,
      h('h2', { text: 'Walk-in holds' }),
      h(
        'ul',
        { class: 'walkin-list', id: 'walkin-list' },
        walkIns.map((w) => {
          const t = h('span', { class: 'countdown' });
          timers.push([t, w.expiresAt]);
          return h(
            'li',
            { 'data-token': w.token },
            h('strong', { text: w.customer.name }),
            ` · ${w.seatIds.map((id) => short(seatById.get(id)!)).join(', ')} · `,
            t,
            h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary walkin-book', text: 'Book', onclick: () => this.actions.book(w) }), h('button', { type: 'button', class: 'walkin-release', text: 'Release', onclick: () => this.actions.release(w.token) })),
          );
        }),
      ),
    );
    const tick = () => {
      for (const [el, at] of timers) el.textContent = `${mmss(Date.parse(at) - Date.now())} left`;
    };
    tick();
    this.timer = window.setInterval(tick, 1000);
  }
}
