import type { SeatState } from '../../packages/client/src';
import { api, type LayoutSeat } from './api';
import { fill, h } from './dom';
import { STATUS_LOOKS, swatch } from './look';
import { drawShape } from './seat-shapes';

/** A seat's holder as staff see it (with the hold's token while held, so a clerk can force-release it). */
export type Holder = NonNullable<SeatState['holder']> & { holdToken?: string };

/** One line of the change feed: from the REST change log on load, then from live batches. */
export interface ChangeItem {
  id: number;
  seatId: number;
  label: string;
  from: string;
  to: string;
  actor: { id: number; name: string } | null;
  reason: string;
  at: string;
}

/** The box office legend: what each seat shape means, and the selection frame. */
export function staffLegend(): HTMLElement {
  return h(
    'section',
    { class: 'panel legend' },
    h('h2', { text: 'Legend' }),
    h(
      'ul',
      { class: 'legend-list' },
      h('li', {}, swatch({ shape: 'circle', fill: '#495057' }, drawShape), ' available (colour = price category)'),
      h('li', {}, swatch(STATUS_LOOKS.held, drawShape), ' held (ring)'),
      h('li', {}, swatch(STATUS_LOOKS.booked, drawShape), ' booked (square)'),
      h('li', {}, swatch(STATUS_LOOKS.blocked, drawShape), ' blocked (bar)'),
      h('li', {}, swatch({ shape: 'circle', fill: '#adb5bd', framed: true }, drawShape), ' selected (frame)'),
    ),
  );
}

/** Live counts by status above the map. */
export function showCounts(el: HTMLElement, c: Record<'available' | 'held' | 'booked' | 'blocked', number>): void {
  fill(
    el,
    (['available', 'held', 'booked', 'blocked'] as const).map((k) => h('div', { class: `count count-${k}` }, h('dt', { text: k }), h('dd', { id: `count-${k}`, text: String(c[k]) }))),
  );
}

/** "Recent changes": the event's change log on load, then every live change on top (the newest 40 shown). */
export class ChangeFeed {
  readonly element = h('ol', { class: 'feed', id: 'feed', 'aria-live': 'off' });
  private readonly items: ChangeItem[] = [];

  constructor(
    private readonly seatById: Map<number, LayoutSeat>,
    private readonly holders: Map<number, Holder>,
  ) {}

  /** Fills the feed from the REST change log (staff only; a 404 means no log on this server). */
  async load(eventId: number): Promise<void> {
    const changes = await api<{ items: ChangeItem[] }>('GET', `/api/admin/events/${eventId}/changes?limit=40`);
    this.items.push(...changes.items);
    this.render();
  }

  /** Live changes go to the top of the feed. */
  add(states: SeatState[]): void {
    for (const s of states) {
      const seat = this.seatById.get(s.id);
      // The holder as of this change (the seat may change hands again before the feed re-renders).
      const who = s.holder ?? (s.status === 'held' || s.status === 'booked' ? this.holders.get(s.id) : undefined);
      this.items.unshift({ id: 0, seatId: s.id, label: seat ? seat.label : `#${s.id}`, from: '', to: s.status, actor: who ? { id: who.userId, name: who.name } : null, reason: '', at: new Date().toISOString() });
    }
    this.items.length = Math.min(this.items.length, 60);
    this.render();
  }

  private render(): void {
    fill(
      this.element,
      this.items.slice(0, 40).map((f) => {
        const who = f.actor?.name;
        return h('li', {}, h('time', { text: new Date(f.at).toLocaleTimeString() }), ` ${f.label}: ${f.from ? `${f.from} → ` : ''}${f.to}${who ? ` · ${who}` : ''}${f.reason ? ` (${f.reason.replace(/_/g, ' ')})` : ''}`);
      }),
    );
  }
}
