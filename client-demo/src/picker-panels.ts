import type { BookingView } from '../../packages/client/src';
import type { EventDetail } from './api';
import { fill, h, money } from './dom';
import type { LiveSeats } from './live';
import { STATUS_LOOKS, swatch } from './look';
import { drawShape } from './seat-shapes';

/** The seat picker's legend: prices by category (their colours) and what each seat shape means. */
export function legendPanel(event: EventDetail, colours: Map<string, string>): HTMLElement {
  return h(
    'section',
    { class: 'panel legend', 'aria-label': 'Legend and prices' },
    h('h2', { text: 'Prices' }),
    h(
      'ul',
      { class: 'legend-list' },
      event.prices.map((p) => h('li', {}, swatch({ shape: 'circle', fill: colours.get(p.category)! }, drawShape), ` ${p.category}: `, h('strong', { text: money(p.priceCents, event.currency) }))),
    ),
    h('h2', { text: 'Seats' }),
    h(
      'ul',
      { class: 'legend-list' },
      h('li', {}, swatch({ shape: 'circle', fill: '#495057' }, drawShape), ' available (filled circle, colour = price)'),
      h('li', {}, swatch(STATUS_LOOKS.mine, drawShape), ' yours (diamond)'),
      h('li', {}, swatch(STATUS_LOOKS.held, drawShape), ' held by someone (ring)'),
      h('li', {}, swatch(STATUS_LOOKS.booked, drawShape), ' sold (square)'),
      h('li', {}, swatch(STATUS_LOOKS.blocked, drawShape), ' not for sale (bar)'),
    ),
  );
}

/** The receipt after booking: reference, seats and standing tickets, what was paid. */
export function renderBooking(panel: HTMLElement, b: BookingView): void {
  panel.hidden = false;
  fill(
    panel,
    h('h2', { text: 'Booked' }),
    h('p', {}, 'Reference ', h('strong', { id: 'booking-ref', text: b.reference })),
    h(
      'ul',
      { class: 'hold-list' },
      b.seats.map((s) => h('li', {}, `${s.section} row ${s.row} seat ${s.number}`, h('span', { class: 'price', text: money(s.priceCents, b.currency) }))),
      (b.ga ?? []).map((g) => h('li', {}, `${g.section}: ${g.quantity} standing`, h('span', { class: 'price', text: money(g.quantity * g.priceCents, b.currency) }))),
    ),
    h('p', { class: 'total' }, 'Paid ', h('strong', { text: money(b.totalCents, b.currency) })),
  );
}

/** Event-wide notices in plain words: the sale opened, closed or the event was cancelled; staff cancelled your booking. */
export function announceEventNotices(live: LiveSeats, say: (text: string, kind?: 'error' | 'info' | 'ok', code?: string) => void): void {
  live.socket.on('event:status', (notice) => {
    if (notice.status === 'cancelled') say(`This event was cancelled${notice.reason ? `: ${notice.reason}` : ''}. Any booking is cancelled and refunded.`, 'error', 'EVENT_CANCELLED');
    else if (notice.status === 'closed') say('Sales for this event are closed.', 'info', 'EVENT_NOT_ON_SALE');
    else if (notice.status === 'on_sale') say('Tickets for this event are on sale now.', 'ok');
  });
  live.socket.on('booking:cancelled', (notice) => {
    say(`Your booking ${notice.reference} was cancelled${notice.reason === 'event_cancelled' ? ' because the event was cancelled' : ' by the box office'}.`, 'error', 'BOOKING_CANCELLED');
  });
}
