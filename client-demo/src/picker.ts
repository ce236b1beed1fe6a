import type { BookingView, ErrorBody, GaAreaState, GaHoldView, GaLine, HoldView, EventLayout, SeatState, WaitlistEntryView, WaitlistOffer } from '../../server/contracts';
import { api, newIdempotencyKey, session, type EventDetail, type LayoutSeat } from './api';
import { authPanel } from './auth-panel';
import { fill, h, mmss, money } from './dom';
import { connectionBadge, LiveSeats } from './live';
import { categoryColours, lookOf, STATUS_LOOKS, STATUS_WORDS, swatch } from './look';
import { plainMessage } from './messages';
import { drawShape, SeatCanvas, zoomBar } from './seat-canvas';

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
  const holdKey = `evently.hold.${eventId}`;
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
  const holdPanel = h('section', { class: 'panel', id: 'hold-panel', 'aria-labelledby': 'hold-title' });
  const bookingPanel = h('section', { class: 'panel', id: 'booking-panel', hidden: true });
  const waitlistPanel = h('section', { class: 'panel', id: 'waitlist-panel', hidden: true });
  const availability = h('p', { class: 'availability', id: 'availability' });
  const gaPanel = h('section', { class: 'panel', id: 'ga-panel', hidden: true, 'aria-label': 'Standing tickets' });

  const say = (text: string, kind: 'error' | 'info' | 'ok' = 'error', code?: string) => {
    message.textContent = text;
    message.dataset.kind = kind;
    if (code) message.dataset.code = code;
    else delete message.dataset.code;
  };
  const sayError = (err: ErrorBody) => say(plainMessage(err), 'error', err.code);

  const legend = h(
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

  const qty = h('input', { type: 'number', id: 'best-qty', min: 1, max: event.maxSeatsPerOrder, value: 2, 'aria-label': 'Number of seats' });
  const cat = h('select', { id: 'best-category', 'aria-label': 'Price category' }, h('option', { value: '', text: 'any price' }), event.prices.map((p) => h('option', { value: p.category, text: `${p.category} (${money(p.priceCents, event.currency)})` })));
  const bestForm = h(
    'form',
    { class: 'panel best', id: 'best-form', 'aria-label': 'Best available' },
    h('h2', { text: 'Best available' }),
    h('label', {}, 'Seats ', qty),
    ' ',
    cat,
    ' ',
    h('button', { type: 'submit', id: 'best-submit', text: 'Find seats' }),
  );
  bestForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void bestAvailable(Number(qty.value), cat.value || undefined);
  });

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
      h('aside', { class: 'side' }, holdPanel, bookingPanel, bestForm, gaPanel, waitlistPanel, legend),
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
  live.socket.on('event:status', (notice) => {
    if (notice.status === 'cancelled') say(`This event was cancelled${notice.reason ? `: ${notice.reason}` : ''}. Any booking is cancelled and refunded.`, 'error', 'EVENT_CANCELLED');
    else if (notice.status === 'closed') say('Sales for this event are closed.', 'info', 'EVENT_NOT_ON_SALE');
    else if (notice.status === 'on_sale') say('Tickets for this event are on sale now.', 'ok');
  });
  live.socket.on('booking:cancelled', (notice) => {
    say(`Your booking ${notice.reference} was cancelled${notice.reason === 'event_cancelled' ? ' because the event was cancelled' : ' by the box office'}.`, 'error', 'BOOKING_CANCELLED');
  });

  function updateAvailability(): void {
    const c = live.map.counts();
    availability.textContent = `${c.available} of ${seats.length} seats available`;
    const soldOut = live.map.seats.size > 0 && c.available === 0;
    waitlistPanel.hidden = !soldOut && !waitlist;
    if (soldOut && !waitlist) renderWaitlist();
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

  async function bestAvailable(quantity: number, category?: string): Promise<void> {
    if (!session.get()) return say('Please sign in (top right) to choose seats.', 'error', 'UNAUTHORIZED');
    if (hold) return say('Book or release the seats you hold before asking for the best available.', 'info');
    if (!Number.isInteger(quantity) || quantity < 1) return say('Enter how many seats you want.', 'error', 'VALIDATION_FAILED');
    const payload: { quantity: number; category?: string } = { quantity };
    if (category) payload.category = category;
    const data = await run(async () => {
      const r = await live.call<HoldView>('seat:best', payload);
      // An unknown command is never answered: say so plainly instead of "try again".
      if (!r.ok && r.error.code === 'NO_ANSWER') return { ok: false as const, error: { code: 'NOT_SUPPORTED', message: 'seat:best unavailable' } };
      return r;
    });
    if (!data) return;
    adoptHold(data, true);
    const labels = data.seats.map((s) => seatById.get(s.id)).filter(Boolean) as LayoutSeat[];
    say(`Holding ${labels.length} seat${labels.length === 1 ? '' : 's'}: ${labels.map((s) => `${s.section} ${s.row}${s.number}`).join(', ')}.`, 'ok');
    if (labels[0]) canvas.focusSeat(labels[0].id);
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
    const offerEntry = waitlist?.status === 'offered' && waitlist.offer?.holdToken === token ? waitlist : null;
    const data = await run(() =>
      offerEntry ? live.call<BookingView>('waitlist:accept', { entryId: offerEntry.id, idempotencyKey }) : live.call<BookingView>('booking:confirm', { holdToken: token, idempotencyKey }),
    );
    if (!data) return;
    const ids = hold.seats.map((s) => s.id);
    for (const id of ids) mineBooked.add(id);
    hold = null;
    canvas.redraw(ids);
    renderHold();
    renderBooking(data);
    say(`Booked! Your reference is ${data.reference}.`, 'ok');
    if (offerEntry) void refreshWaitlist();
  }

  // ----- panels -----
  let timer: number | undefined;
  let warnedFor: string | undefined;
  function renderHold(): void {
    clearInterval(timer);
    persistHold();
    if (!session.get()) {
      fill(holdPanel, h('h2', { id: 'hold-title', text: 'Your seats' }), h('p', { text: 'Sign in to hold and book seats. You can watch the map change live without an account.' }));
      return;
    }
    if (!hold) {
      fill(
        holdPanel,
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
        expired = true;
        countdown.textContent = 'Hold expired';
        countdown.classList.add('expired');
        clearInterval(timer);
        return;
      }
      countdown.textContent = `Held for you: ${mmss(left)}`;
      countdown.classList.toggle('urgent', left < 60000);
      // One spoken warning a minute before the end (the timer itself is not read out every second).
      if (left < 60000 && left > 50000 && warnedFor !== current.holdToken) {
        warnedFor = current.holdToken;
        say('Less than a minute left on your hold: book now or ask for more time.', 'info');
      }
    };
    tick();
    timer = window.setInterval(tick, 250);
    fill(
      holdPanel,
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
            h('button', { type: 'button', class: 'link', 'aria-label': `Release ${s.section} row ${s.row} seat ${s.number}`, text: 'remove', onclick: () => void toggleSeat(s) }),
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
        h('button', { type: 'button', id: 'book', class: 'primary', text: 'Book now', onclick: () => void book() }),
        h('button', { type: 'button', id: 'extend', text: 'More time', onclick: () => void extend() }),
        h('button', { type: 'button', id: 'release', text: 'Release all', onclick: () => void releaseAll() }),
      ),
    );
  }

  function renderBooking(b: BookingView): void {
    bookingPanel.hidden = false;
    fill(
      bookingPanel,
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

  // ----- waitlist -----
  let waitlist: WaitlistEntryView | null = null;
  async function refreshWaitlist(): Promise<void> {
    if (!session.get() || !live.socket.connected) {
      waitlist = null;
      renderWaitlist();
      return;
    }
    const r = await live.call<WaitlistEntryView | null>('waitlist:status', {}, 4000);
    waitlist = r.ok && r.data && ['waiting', 'offered'].includes(r.data.status) ? r.data : null;
    if (waitlist?.status === 'offered' && waitlist.offer && (!hold || hold.holdToken !== waitlist.offer.holdToken)) {
      adoptHold({ holdToken: waitlist.offer.holdToken, eventId, expiresAt: waitlist.offer.expiresAt, maxExpiresAt: waitlist.offer.expiresAt, seats: waitlist.offer.seats }, false);
    }
    renderWaitlist();
    updateAvailability();
  }

  function renderWaitlist(): void {
    const soldOut = live.map.seats.size > 0 && live.map.counts().available === 0;
    waitlistPanel.hidden = !soldOut && !waitlist;
    if (waitlist) {
      fill(
        waitlistPanel,
        h('h2', { text: 'Waitlist' }),
        waitlist.status === 'offered'
          ? h('p', { id: 'waitlist-state', text: 'Seats were offered to you: book them in "Your seats" before the timer runs out.' })
          : h('p', { id: 'waitlist-state', text: `You are on the waitlist for ${waitlist.partySize} seat${waitlist.partySize === 1 ? '' : 's'}${waitlist.position ? `, number ${waitlist.position} in line` : ''}. Keep this page open: an offer appears here live.` }),
        waitlist.status === 'waiting'
          ? h('button', {
              type: 'button',
              id: 'waitlist-leave',
              text: 'Leave the waitlist',
              onclick: async () => {
                const r = await live.call<WaitlistEntryView>('waitlist:leave', { entryId: waitlist!.id });
                if (!r.ok) return sayError(r.error);
                waitlist = null;
                renderWaitlist();
              },
            })
          : null,
      );
      return;
    }
    const party = h('input', { type: 'number', id: 'waitlist-party', min: 1, max: event.maxSeatsPerOrder, value: 2, 'aria-label': 'Party size' });
    const together = h('input', { type: 'checkbox', id: 'waitlist-together', checked: true });
    const form = h(
      'form',
      { id: 'waitlist-form' },
      h('h2', { text: 'Sold out: join the waitlist' }),
      h('p', { text: 'When seats free up, the first party they fit gets them held in their name.' }),
      h('label', {}, 'Party size ', party),
      h('label', {}, together, ' sit together'),
      h('button', { type: 'submit', id: 'waitlist-join', text: 'Join waitlist' }),
    );
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (!session.get()) return say('Please sign in (top right) to join the waitlist.', 'error', 'UNAUTHORIZED');
      const r = await live.call<WaitlistEntryView>('waitlist:join', { partySize: Number(party.value), together: together.checked });
      if (!r.ok) return sayError(r.error.code === 'NO_ANSWER' ? { code: 'NOT_SUPPORTED', message: 'waitlist unavailable' } : r.error);
      waitlist = r.data;
      say('You are on the waitlist.', 'ok');
      renderWaitlist();
    });
    fill(waitlistPanel, form);
  }

  // ----- a reload keeps the hold: its token lives in sessionStorage (this tab only) -----
  function persistHold(): void {
    try {
      if (hold) sessionStorage.setItem(holdKey, JSON.stringify({ token: hold.holdToken, skew }));
      else sessionStorage.removeItem(holdKey);
    } catch {
      // Storage unavailable (private mode): the hold simply is not restored after a reload.
    }
  }
  async function restoreHold(saved: { token: string; skew: number }): Promise<void> {
    if (!session.get() || hold) return;
    try {
      const view = await api<HoldView & { ga?: GaLine[] }>('GET', `/api/holds/${encodeURIComponent(saved.token)}`);
      const live = view.seats.filter((st) => st.status === 'held');
      if (!hold && (live.length || view.ga?.length) && Date.parse(view.expiresAt) > Date.now() + saved.skew) {
        skew = saved.skew;
        adoptHold({ ...view, seats: live }, false);
        say('Your seats are still held for you.', 'info');
      }
    } catch {
      // Gone (expired, booked, released): nothing to restore.
    }
  }

  // ----- general admission (standing areas: a count, no seats on the map) -----
  interface GaArea {
    sectionId: number;
    name: string;
    available: number;
    priceCents: number;
    version: number;
  }
  const gaAreas = new Map<number, GaArea>();
  const gaQty = h('input', { type: 'number', id: 'ga-qty', min: 1, max: event.maxSeatsPerOrder, value: 2, 'aria-label': 'Number of standing tickets' });
  const gaSelect = h('select', { id: 'ga-area', 'aria-label': 'Standing area' });
  const gaList = h('ul', { class: 'legend-list', id: 'ga-list' });
  const gaForm = h('form', {}, h('h2', { text: 'Standing' }), gaList, h('label', {}, 'Tickets ', gaQty), ' ', gaSelect, ' ', h('button', { type: 'submit', id: 'ga-submit', text: 'Hold tickets' }));
  gaPanel.append(gaForm);
  const renderGa = () => {
    gaPanel.hidden = gaAreas.size === 0;
    const areas = [...gaAreas.values()];
    fill(gaList, areas.map((a) => h('li', { 'data-section-id': a.sectionId }, `${a.name}: `, h('strong', { text: `${a.available} left` }), ` · ${money(a.priceCents, event.currency)} each`)));
    const chosen = gaSelect.value;
    fill(gaSelect, areas.map((a) => h('option', { value: a.sectionId, text: a.name })));
    if (chosen) gaSelect.value = chosen;
  };
  const loadGa = async () => {
    if (!layout.sections.some((s) => s.kind === 'ga')) return;
    try {
      const r = await api<{ areas: GaArea[] }>('GET', `/api/events/${eventId}/ga`);
      for (const a of r.areas) {
        const cur = gaAreas.get(a.sectionId);
        if (!cur || cur.version <= a.version) gaAreas.set(a.sectionId, a);
      }
      renderGa();
    } catch {
      // No GA endpoint on this server: the panel stays hidden.
    }
  };
  live.socket.on('ga:changed', (batch) => {
    for (const a of batch.areas as GaAreaState[]) {
      const cur = gaAreas.get(a.sectionId);
      if (cur && cur.version < a.version) gaAreas.set(a.sectionId, { ...cur, available: a.available, version: a.version });
    }
    renderGa();
  });
  live.socket.on('connect', () => void loadGa());
  gaForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!session.get()) return say('Please sign in (top right) to choose tickets.', 'error', 'UNAUTHORIZED');
    if (hold) return say('Book or release what you hold before adding standing tickets.', 'info');
    const data = await run(() => live.call<GaHoldView>('ga:hold', { sectionId: Number(gaSelect.value), quantity: Number(gaQty.value) }));
    if (!data) return;
    adoptHold(data, true);
    say(`Holding ${gaQty.value} standing ticket(s).`, 'ok');
    void loadGa();
  });

  let saved: { token: string; skew: number } | null = null;
  try {
    saved = JSON.parse(sessionStorage.getItem(holdKey) ?? 'null');
  } catch {
    saved = null;
  }
  renderHold();
  updateAvailability();
  if (saved) void restoreHold(saved);

  // Test and debugging hook: read-only views of what the page shows (the e2e tests click real pixels).
  (window as unknown as { evently: unknown }).evently = {
    seat: (id: number): (SeatState & { mine: boolean }) | null => {
      const s = live.map.seats.get(id);
      return s ? { ...s, mine: inHold(id) || mineBooked.has(id) } : null;
    },
    seatPoint: (id: number) => canvas.seatPoint(id),
    connected: () => live.socket.connected,
    stats: () => ({ ...live.stats }),
    cursor: () => live.map.cursor,
    hold: () => hold,
    /** Drops the connection as a network loss would (the client does not reconnect until goOnline). */
    goOffline: () => live.socket.disconnect(),
    goOnline: () => live.socket.connect(),
    /** Makes the local map show a seat as free at its current version, as a map that missed a change would. */
    staleSeat: (id: number) => {
      const s = live.map.seats.get(id);
      if (s) live.map.seats.set(id, { id, status: 'available', version: s.version });
      canvas.redraw([id]);
    },
  };
}
