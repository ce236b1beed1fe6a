import type { BookingView, ErrorBody, GaHoldView, GaLine, HoldView, EventLayout, WaitlistOffer } from '../../packages/client/src';
import { api, newIdempotencyKey, session, type EventDetail, type LayoutSeat } from './api';
import { authPanel } from './auth-panel';
import { fill, h, money } from './dom';
import { connectionBadge, LiveSeats } from './live';
import { categoryColours, lookOf, STATUS_WORDS } from './look';
import { plainMessage } from './messages';
import type { PickerContext } from './picker-context';
import { exposePicker } from './picker-debug';
import { HoldPanel } from './picker-hold-panel';
import { bestPanel } from './picker-best';
import { announceEventNotices, legendPanel, renderBooking } from './picker-panels';
import { fetchSavedHold, savedHold, type SavedHold } from './picker-saved-hold';
import { standingPanel } from './picker-standing';
import { waitlistPanel } from './picker-waitlist';
import { SeatCanvas } from './seat-canvas';
import { zoomBar } from './zoom-bar';

/**
 * The buyer's seat picker: the venue to scale, live seat states, click (or Enter) to hold and add seats to
 * the same hold, a countdown with extend and release, booking with an idempotency key, best available,
 * the waitlist when sold out, sign-in, and plain-language errors.
 */
export async function seatPicker(root: HTMLElement, eventId: number): Promise<void> {
  // The layout comes from its own cacheable URL (fetched once per layout version) and sets the compact order.
  const [event, layout] = await Promise.all([api<EventDetail>('GET', `/api/events/${eventId}?layout=false`), api<EventLayout>('GET', `/api/events/${eventId}/layout`)]);
  document.title = `${event.name} · Evently`;
  const seats = layout.seats;
  const seatById = new Map(seats.map((s) => [s.id, s]));
  const priceOf = new Map(event.prices.map((p) => [p.category, p.priceCents]));
  const colours = categoryColours(event.prices.map((p) => p.category));
  const live = new LiveSeats(eventId, layout);

  /** The current hold: seats, and general-admission tickets when it was a standing-area hold. */
  let hold: (HoldView & { ga?: GaLine[] }) | null = null;
  /** Set when our hold ran out, so the panel says so until the next hold. */
  let expired = false;
  let lastToken: string | undefined;
  /** Server time minus browser time, learnt from hold replies (the server's clock decides expiry). */
  let skew = 0;
  const mineBooked = new Set<number>();
  const bookingKeys = new Map<string, string>();
  let busy = false;

  const inHold = (id: number) => !!hold && hold.seats.some((s) => s.id === id);
  const describe = (seat: LayoutSeat): string => {
    const st = live.map.seats.get(seat.id);
    const status = !st ? 'loading' : inHold(seat.id) ? 'held by you' : mineBooked.has(seat.id) ? 'booked by you' : STATUS_WORDS[st.status];
    const price = priceOf.get(seat.category);
    return `${seat.section} row ${seat.row} seat ${seat.number}, ${status}${price !== undefined ? `, ${money(price, event.currency)}` : ''}${seat.accessible ? ', wheelchair space' : ''}`;
  };

  // ----- layout -----
  const message = h('div', { class: 'message', id: 'message', role: 'alert', 'aria-live': 'assertive' });
  const liveRegion = h('div', { class: 'sr-live', id: 'seat-announcer', 'aria-live': 'polite' });
  const hoverLine = h('div', { class: 'hover-line', id: 'hover-line', 'aria-hidden': 'true' });
  const canvas = new SeatCanvas(seats, {
    describe,
    look: (seat) => lookOf(live.map.seats.get(seat.id), seat.category, colours, inHold(seat.id) || mineBooked.has(seat.id)),
    activate: (seat) => void toggleSeat(seat),
    live: liveRegion,
    hoverLine,
  });
  const holdView = new HoldPanel({
    event,
    seatById,
    priceOf,
    say: (text, kind, code) => say(text, kind, code),
    release: (seat) => void toggleSeat(seat),
    book: () => void book(),
    extend: () => void extend(),
    releaseAll: () => void releaseAll(),
    expired: () => (expired = true),
  });
  const holdPanel = holdView.element;
  const bookingPanel = h('section', { class: 'panel', id: 'booking-panel', hidden: true });
  const availability = h('p', { class: 'availability', id: 'availability' });

  const say = (text: string, kind: 'error' | 'info' | 'ok' = 'error', code?: string) => {
    message.textContent = text;
    message.dataset.kind = kind;
    if (code) message.dataset.code = code;
    else delete message.dataset.code;
  };
  const sayError = (err: ErrorBody) => say(plainMessage(err), 'error', err.code);
  const ctx: PickerContext = { eventId, event, layout, live, say, sayError, run, adoptHold, hold: () => hold };
  const waitlist = waitlistPanel(ctx, () => updateAvailability());
  const waitlistEl = waitlist.element;
  const refreshWaitlist = () => waitlist.refresh();
  const gaPanel = standingPanel(ctx);

  const legend = legendPanel(event, colours);
  const bestForm = bestPanel(ctx, seatById, (id) => canvas.focusSeat(id));
  announceEventNotices(live, say);

  fill(
    root,
    h(
      'header',
      { class: 'top' },
      h('a', { href: '/', class: 'brand', text: 'Evently' }),
      h('div', { class: 'title' }, h('h1', { text: event.name }), h('p', { class: 'sub', text: `${event.venue.name} · ${new Date(event.startsAt).toLocaleString()}` })),
      connectionBadge(live),
      authPanel((user) => {
        if (!user) {
          // Signed out: what we held belongs to that account, not to whoever uses this browser next.
          hold = null;
          mineBooked.clear();
          canvas.redrawAll();
        }
        live.reconnect();
        renderHold();
        void refreshWaitlist();
      }),
    ),
    message,
    h(
      'main',
      { class: 'picker' },
      h('div', { class: 'map-col' }, zoomBar(canvas), h('div', { class: 'map-scroll', id: 'map-scroll' }, canvas.element), hoverLine, liveRegion, availability),
      h('aside', { class: 'side' }, holdPanel, bookingPanel, bestForm, gaPanel, waitlistEl, legend),
    ),
  );
  const layoutCanvas = () => canvas.layout(Math.max(320, (root.querySelector('.map-scroll') as HTMLElement).clientWidth));
  layoutCanvas();
  let resizeTimer: number | undefined;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(layoutCanvas, 150);
  });

  // ----- live updates -----
  live.onChange((changed, fromSnapshot) => {
    if (fromSnapshot) canvas.redrawAll();
    else canvas.redraw(changed.map((s) => s.id));
    for (const s of changed) {
      canvas.refreshAnnouncement(s.id);
      // Our hold's seats moving away from 'held' (expired, released elsewhere) end the hold locally.
      if (hold && inHold(s.id) && s.status !== 'held') dropFromHold([s.id]);
    }
    updateAvailability();
  });
  live.socket.on('hold:expired', (notice) => {
    // The seats' own change may arrive first and clear the hold: match on the last token we had.
    if (notice.holdToken !== lastToken) return;
    const ids = hold ? hold.seats.map((s) => s.id) : notice.seatIds;
    hold = null;
    expired = true;
    canvas.redraw(ids);
    renderHold();
    say(notice.reason === 'event_cancelled' ? 'The event was cancelled, so your hold was released.' : 'Your hold expired and the seats were released. Please choose again.', 'error', 'HOLD_EXPIRED');
  });
  live.socket.on('waitlist:offer', (offer: WaitlistOffer) => {
    adoptHold({ holdToken: offer.holdToken, eventId: offer.eventId, expiresAt: offer.expiresAt, maxExpiresAt: offer.expiresAt, seats: offer.seats }, false);
    say(`Good news: ${offer.seats.length} seat${offer.seats.length === 1 ? '' : 's'} from the waitlist ${offer.seats.length === 1 ? 'is' : 'are'} held for you until ${new Date(Date.parse(offer.expiresAt) - skew).toLocaleTimeString()}. Book them below.`, 'ok');
    void refreshWaitlist();
  });
  live.socket.on('connect', () => void refreshWaitlist());
  function updateAvailability(): void {
    const c = live.map.counts();
    availability.textContent = `${c.available} of ${seats.length} seats available`;
    const soldOut = live.map.seats.size > 0 && c.available === 0;
    waitlistEl.hidden = !soldOut && !waitlist.current();
    if (soldOut && !waitlist.current()) waitlist.render();
  }

  // ----- hold, extend, release, book -----
  function adoptHold(view: HoldView, learnSkew: boolean): void {
    const before = hold ? hold.seats.map((s) => s.id) : [];
    if (learnSkew) skew = Date.parse(view.expiresAt) - event.holdTtlSeconds * 1000 - Date.now();
    hold = view.seats.length || (view as GaHoldView).ga?.length ? view : null;
    if (hold) {
      expired = false;
      lastToken = hold.holdToken;
    }
    // The reply's seat states are newer than (or equal to) what the map has: apply them right away.
    live.map.applyChanges({ eventId, cursor: 0, seats: view.seats });
    canvas.redraw([...before, ...view.seats.map((s) => s.id)]);
    renderHold();
    updateAvailability();
  }

  function dropFromHold(ids: number[]): void {
    if (!hold) return;
    const gone = new Set(ids);
    const seatsLeft = hold.seats.filter((s) => !gone.has(s.id));
    hold = seatsLeft.length || hold.ga?.length ? { ...hold, seats: seatsLeft } : null;
    canvas.redraw(ids);
    renderHold();
  }

  async function run<T>(what: () => Promise<{ ok: true; data: T } | { ok: false; error: ErrorBody }>): Promise<T | undefined> {
    if (busy) return undefined;
    busy = true;
    holdPanel.setAttribute('aria-busy', 'true');
    try {
      const reply = await what();
      if (!reply.ok) {
        sayError(reply.error);
        return undefined;
      }
      return reply.data;
    } finally {
      busy = false;
      holdPanel.removeAttribute('aria-busy');
    }
  }

  async function toggleSeat(seat: LayoutSeat): Promise<void> {
    if (!session.get()) {
      say('Please sign in (top right) to choose seats.', 'error', 'UNAUTHORIZED');
      (document.getElementById('auth-email') as HTMLInputElement | null)?.focus();
      return;
    }
    if (hold && inHold(seat.id)) {
      const token = hold.holdToken;
      const data = await run(() => live.call<HoldView | { released: number[] }>('seat:release', { holdToken: token, seatIds: [seat.id] }));
      if (!data) return;
      if ('holdToken' in data) adoptHold(data, false);
      else dropFromHold(data.released);
      say(`Released ${seat.section} row ${seat.row} seat ${seat.number}.`, 'info');
      return;
    }
    const st = live.map.seats.get(seat.id);
    if (st && st.status !== 'available') {
      say(st.status === 'held' ? 'Someone is holding that seat right now. It may free up soon.' : st.status === 'booked' ? 'That seat is sold.' : 'That seat is not for sale.', 'info');
      return;
    }
    const payload: { seatIds: number[]; holdToken?: string } = { seatIds: [seat.id] };
    if (hold) payload.holdToken = hold.holdToken;
    const data = await run(() => live.call<HoldView>('seat:hold', payload));
    if (!data) return;
    adoptHold(data, !payload.holdToken);
    say(`Holding ${seat.section} row ${seat.row} seat ${seat.number}.`, 'ok');
  }

  async function extend(): Promise<void> {
    if (!hold) return;
    const token = hold.holdToken;
    const data = await run(() => live.call<HoldView>('hold:extend', { holdToken: token }));
    if (!data) return;
    // An extension is "now + hold time" unless capped by the hold's maximum life.
    adoptHold(data, data.expiresAt !== data.maxExpiresAt);
    say('Your hold was extended.', 'ok');
  }

  async function releaseAll(): Promise<void> {
    if (!hold) return;
    const token = hold.holdToken;
    const data = await run(() => live.call<HoldView | { released: number[] }>('seat:release', { holdToken: token }));
    if (!data) return;
    dropFromHold(hold.seats.map((s) => s.id));
    say('Your seats were released.', 'info');
  }

  async function book(): Promise<void> {
    if (!hold) return;
    const token = hold.holdToken;
    // The same key for every attempt on this hold: a retry after a lost answer returns the same booking.
    let key = bookingKeys.get(token);
    if (!key) bookingKeys.set(token, (key = newIdempotencyKey()));
    const idempotencyKey = key;
    const entry = waitlist.current();
    const offerEntry = entry?.status === 'offered' && entry.offer?.holdToken === token ? entry : null;
    const data = await run(() =>
      offerEntry ? live.call<BookingView>('waitlist:accept', { entryId: offerEntry.id, idempotencyKey }) : live.call<BookingView>('booking:confirm', { holdToken: token, idempotencyKey }),
    );
    if (!data) return;
    const ids = hold.seats.map((s) => s.id);
    for (const id of ids) mineBooked.add(id);
    hold = null;
    canvas.redraw(ids);
    renderHold();
    renderBooking(bookingPanel, data);
    say(`Booked! Your reference is ${data.reference}.`, 'ok');
    if (offerEntry) void refreshWaitlist();
  }

  // ----- panels; a reload keeps the hold -----
  const store = savedHold(eventId);
  function renderHold(): void {
    store.save(hold, skew);
    holdView.render({ hold, expired, skew });
  }
  async function restoreHold(saved: SavedHold): Promise<void> {
    if (hold) return;
    const view = await fetchSavedHold(saved);
    if (!view || hold) return;
    skew = saved.skew;
    adoptHold(view, false);
    say('Your seats are still held for you.', 'info');
  }

  const saved = store.load();
  renderHold();
  updateAvailability();
  if (saved) void restoreHold(saved);
  exposePicker(live, canvas, (id) => inHold(id) || mineBooked.has(id), () => hold);
}
