import type { GaLine, HoldView } from '../../packages/client/src';
import { session, type EventDetail, type LayoutSeat } from './api';
import { fill, h, mmss, money } from './dom';

/** What the "Your seats" panel shows: the hold (seats and standing tickets), whether one just ran out, the clock skew. */
export interface HoldPanelState {
  hold: (HoldView & { ga?: GaLine[] }) | null;
  expired: boolean;
  /** Server time minus browser time: the server's clock decides expiry. */
  skew: number;
}

export interface HoldPanelOptions {
  event: EventDetail;
  seatById: Map<number, LayoutSeat>;
  priceOf: Map<string, number>;
  say(text: string, kind?: 'error' | 'info' | 'ok', code?: string): void;
  release(seat: LayoutSeat): void;
  book(): void;
  extend(): void;
  releaseAll(): void;
  /** The countdown reached zero (the hold is gone by the server's record). */
  expired(): void;
}

/**
 * "Your seats": what you hold with its total, a countdown (one spoken warning a minute before the end), and
 * book / more time / release. Signed out or holding nothing, it says how to start.
 */
export class HoldPanel {
  readonly element = h('section', { class: 'panel', id: 'hold-panel', 'aria-labelledby': 'hold-title' });
  private timer: number | undefined;
  private warnedFor: string | undefined;

  constructor(private readonly opts: HoldPanelOptions) {}

  render({ hold, expired, skew }: HoldPanelState): void {
    const { event, seatById, priceOf, say } = this.opts;
    const panel = this.element;
    clearInterval(this.timer);
    if (!session.get()) {
      fill(panel, h('h2', { id: 'hold-title', text: 'Your seats' }), h('p', { text: 'Sign in to hold and book seats. You can watch the map change live without an account.' }));
      return;
    }
    if (!hold) {
      fill(
        panel,
        h('h2', { id: 'hold-title', text: 'Your seats' }),
        expired ? h('p', { class: 'countdown expired', id: 'countdown', role: 'timer', 'data-remaining-ms': 0, text: 'Hold expired' }) : null,
        h('p', { id: 'hold-empty', text: 'Click a seat (or focus the map and use the arrow keys, then Enter) to hold it. Seats you add join the same hold.' }),
      );
      return;
    }
    const current = hold;
    const items = current.seats
      .map((s) => seatById.get(s.id))
      .filter((s): s is LayoutSeat => !!s)
      .sort((a, b) => a.section.localeCompare(b.section) || a.row.localeCompare(b.row) || a.number - b.number);
    const gaLines = current.ga ?? [];
    const total = items.reduce((t, s) => t + (priceOf.get(s.category) ?? 0), 0) + gaLines.reduce((t, g) => t + g.quantity * g.priceCents, 0);
    const countdown = h('p', { class: 'countdown', id: 'countdown', role: 'timer', 'aria-live': 'off' });
    const tick = () => {
      const left = Date.parse(current.expiresAt) - (Date.now() + skew);
      countdown.dataset.remainingMs = String(Math.max(0, left));
      if (left <= 0) {
        this.opts.expired();
        countdown.textContent = 'Hold expired';
        countdown.classList.add('expired');
        clearInterval(this.timer);
        return;
      }
      countdown.textContent = `Held for you: ${mmss(left)}`;
      countdown.classList.toggle('urgent', left < 60000);
      // One spoken warning a minute before the end (the timer itself is not read out every second).
      if (left < 60000 && left > 50000 && this.warnedFor !== current.holdToken) {
        this.warnedFor = current.holdToken;
        say('Less than a minute left on your hold: book now or ask for more time.', 'info');
      }
    };
    tick();
    this.timer = window.setInterval(tick, 250);
    fill(
      panel,
      h('h2', { id: 'hold-title', text: `Your seats (${items.length})` }),
      countdown,
      h(
        'ul',
        { class: 'hold-list', id: 'hold-list' },
        items.map((s) =>
          h(
            'li',
            { 'data-seat-id': s.id },
            `${s.section} row ${s.row} seat ${s.number}`,
            h('span', { class: 'price', text: money(priceOf.get(s.category) ?? 0, event.currency) }),
            h('button', { type: 'button', class: 'link', 'aria-label': `Release ${s.section} row ${s.row} seat ${s.number}`, text: 'remove', onclick: () => this.opts.release(s) }),
          ),
        ),
      ),
      gaLines.length
        ? h(
            'ul',
            { class: 'hold-list', id: 'hold-ga' },
            gaLines.map((g) => h('li', {}, `${g.section}: ${g.quantity} standing ticket${g.quantity === 1 ? '' : 's'}`, h('span', { class: 'price', text: money(g.quantity * g.priceCents, event.currency) }))),
          )
        : null,
      h('p', { class: 'total' }, 'Total ', h('strong', { id: 'hold-total', text: money(total, event.currency) })),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', id: 'book', class: 'primary', text: 'Book now', onclick: () => this.opts.book() }),
        h('button', { type: 'button', id: 'extend', text: 'More time', onclick: () => this.opts.extend() }),
        h('button', { type: 'button', id: 'release', text: 'Release all', onclick: () => this.opts.releaseAll() }),
      ),
    );
  }
}
