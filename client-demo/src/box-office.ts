import type { BookingView, EventLayout, HoldView, SeatState } from '../../packages/client/src';
import { api, ApiError, errorBody, newIdempotencyKey, session, type EventDetail, type LayoutSeat } from './api';
import { authPanel } from './auth-panel';
import { ChangeFeed, showCounts, staffLegend, type Holder } from './box-office-panels';
import { short, WalkInList, type WalkInHold } from './box-office-walk-ins';
import { fill, h, money } from './dom';
import { connectionBadge, LiveSeats } from './live';
import { categoryColours, lookOf, STATUS_WORDS } from './look';
import { plainMessage } from './messages';
import { SeatCanvas } from './seat-canvas';
import { zoomBar } from './zoom-bar';

/**
 * `/box-office/<id>`: the same live map for staff (box_office or admin), who see who holds or booked each
 * seat. Clicking seats selects them; the panel holds or books them for a walk-in, force-releases, blocks
 * and unblocks. Live counts and a feed of recent changes update from the same socket.
 */
export async function boxOffice(root: HTMLElement, eventId: number): Promise<void> {
  const user = session.get()?.user;
  if (!user || (user.role !== 'box_office' && user.role !== 'admin')) {
    fill(
      root,
      h('header', { class: 'top' }, h('a', { href: '/', class: 'brand', text: 'Evently' }), h('div', { class: 'title' }, h('h1', { text: 'Box office' })), authPanel(() => location.reload())),
      h('main', { class: 'home' }, h('p', { class: 'message', 'data-kind': 'info', role: 'alert', id: 'message', text: user ? 'This terminal needs a box office or admin account. Sign out and sign in with one.' : 'Sign in with a box office or admin account (top right).' })),
    );
    return;
  }
  // The layout comes from its own cacheable URL (fetched once per layout version) and sets the compact order.
  const [event, layout] = await Promise.all([api<EventDetail>('GET', `/api/events/${eventId}?layout=false`), api<EventLayout>('GET', `/api/events/${eventId}/layout`)]);
  document.title = `Box office · ${event.name}`;
  const seats = layout.seats;
  const seatById = new Map(seats.map((s) => [s.id, s]));
  const priceOf = new Map(event.prices.map((p) => [p.category, p.priceCents]));
  const colours = categoryColours(event.prices.map((p) => p.category));
  const live = new LiveSeats(eventId, layout);
  const holders = new Map<number, Holder>();
  const selected = new Set<number>();
  const walkIns: WalkInHold[] = [];

  const label = (s: LayoutSeat) => `${s.section} row ${s.row} seat ${s.number}`;
  const describe = (seat: LayoutSeat): string => {
    const st = live.map.seats.get(seat.id);
    const who = holders.get(seat.id);
    const status = !st ? 'loading' : st.status === 'held' ? 'held' : STATUS_WORDS[st.status];
    const price = priceOf.get(seat.category);
    return `${label(seat)}, ${status}${who ? ` by ${who.name}${who.email ? ` (${who.email})` : ''}` : ''}${price !== undefined ? `, ${money(price, event.currency)}` : ''}${selected.has(seat.id) ? ', selected' : ''}`;
  };

  const message = h('div', { class: 'message', id: 'message', role: 'alert' });
  const say = (text: string, kind: 'error' | 'info' | 'ok' = 'error', code?: string) => {
    message.textContent = text;
    message.dataset.kind = kind;
    if (code) message.dataset.code = code;
  };
  const fail = (err: unknown) => {
    const body = errorBody(err);
    say(plainMessage(body), 'error', body.code);
  };
  const liveRegion = h('div', { class: 'sr-live', id: 'seat-announcer', 'aria-live': 'polite' });
  const hoverLine = h('div', { class: 'hover-line', id: 'hover-line', 'aria-hidden': 'true' });
  const canvas = new SeatCanvas(seats, {
    describe,
    look: (seat) => ({ ...lookOf(live.map.seats.get(seat.id), seat.category, colours, false), framed: selected.has(seat.id) }),
    activate: (seat) => {
      if (selected.has(seat.id)) selected.delete(seat.id);
      else selected.add(seat.id);
      canvas.redraw([seat.id]);
      liveRegion.textContent = describe(seat);
      renderSelection();
    },
    live: liveRegion,
    hoverLine,
  });

  const counts = h('dl', { class: 'counts', id: 'counts' });
  const selection = h('section', { class: 'panel', id: 'selection' });
  const walkInList = new WalkInList(seatById, { book: (w) => void bookWalkIn(w), release: (token) => void releaseToken(token) });
  const walkInPanel = walkInList.element;
  const feed = new ChangeFeed(seatById, holders);

  fill(
    root,
    h(
      'header',
      { class: 'top' },
      h('a', { href: '/', class: 'brand', text: 'Evently' }),
      h('div', { class: 'title' }, h('h1', { text: `Box office: ${event.name}` }), h('p', { class: 'sub', text: `${event.venue.name} · ${new Date(event.startsAt).toLocaleString()} · ` }, h('a', { href: `/events/${eventId}`, text: 'buyer view' }))),
      connectionBadge(live),
      authPanel(() => location.reload()),
    ),
    message,
    h(
      'main',
      { class: 'picker' },
      h('div', { class: 'map-col' }, counts, zoomBar(canvas), h('div', { class: 'map-scroll' }, canvas.element), hoverLine, liveRegion),
      h(
        'aside',
        { class: 'side' },
        selection,
        walkInPanel,
        h('section', { class: 'panel' }, h('h2', { text: 'Recent changes' }), feed.element),
        staffLegend(),
      ),
    ),
  );
  canvas.layout(Math.max(320, (root.querySelector('.map-scroll') as HTMLElement).clientWidth));

  // ----- live state -----
  const noteHolder = (s: SeatState) => {
    if (s.holder) holders.set(s.id, s.status === 'held' && s.holdToken ? { ...s.holder, holdToken: s.holdToken } : s.holder);
    else if (s.status === 'available' || s.status === 'blocked') holders.delete(s.id);
  };
  /** The staff snapshot over REST fills holders in when the socket's snapshot did not carry them. */
  const loadHolders = async () => {
    try {
      const snap = await api<{ cursor: number; seats: (SeatState & { holder?: Holder })[] }>('GET', `/api/admin/events/${eventId}/seats`);
      const changed: number[] = [];
      for (const s of snap.seats) {
        const cur = live.map.seats.get(s.id);
        if (s.holder && (!cur || cur.version <= s.version)) {
          holders.set(s.id, s.holdToken ? { ...s.holder, holdToken: s.holdToken } : s.holder);
          changed.push(s.id);
        }
      }
      live.map.applySnapshot({ eventId, cursor: snap.cursor, seats: snap.seats });
      canvas.redraw(changed);
      renderSelection();
    } catch (err) {
      fail(err);
    }
  };
  live.onChange((changed, fromSnapshot) => {
    for (const s of changed) noteHolder(s);
    if (fromSnapshot) {
      canvas.redrawAll();
      if (!changed.some((s) => (s as SeatState & { holder?: unknown }).holder)) void loadHolders();
    } else {
      canvas.redraw(changed.map((s) => s.id));
      for (const s of changed) canvas.refreshAnnouncement(s.id);
      feed.add(changed);
    }
    // Walk-in holds whose seats moved on (booked, expired, released) drop out of the list.
    for (const w of walkIns) w.seatIds = w.seatIds.filter((id) => live.map.seats.get(id)?.status === 'held');
    for (let i = walkIns.length - 1; i >= 0; i--) if (!walkIns[i]!.seatIds.length) walkIns.splice(i, 1);
    renderCounts();
    if (changed.some((s) => selected.has(s.id))) renderSelection();
    renderWalkIns();
  });

  // ----- actions -----
  const selectedSeats = () => [...selected].map((id) => seatById.get(id)).filter((s): s is LayoutSeat => !!s);
  const clearSelection = () => {
    const ids = [...selected];
    selected.clear();
    canvas.redraw(ids);
    renderSelection();
  };
  const applyStates = (states: SeatState[]) => {
    const changed = live.map.applyChanges({ eventId, cursor: 0, seats: states });
    for (const s of changed) noteHolder(s);
    canvas.redraw(changed.map((s) => s.id));
    feed.add(changed);
    renderCounts();
  };

  async function holdForWalkIn(name: string, email: string): Promise<void> {
    const ids = [...selected];
    if (!ids.length) return say('Select seats on the map first.', 'info');
    try {
      const customer: { name: string; email?: string } = { name };
      if (email) customer.email = email;
      const view = await api<HoldView>('POST', `/api/admin/events/${eventId}/holds`, { seatIds: ids, customer });
      walkIns.unshift({ token: view.holdToken, customer, seatIds: view.seats.map((s) => s.id), expiresAt: view.expiresAt });
      for (const s of view.seats) holders.set(s.id, { userId: user!.id, name: customer.name, email: customer.email ?? '', holdToken: view.holdToken });
      applyStates(view.seats);
      clearSelection();
      renderWalkIns();
      say(`Held ${view.seats.length} seat(s) for ${name}.`, 'ok');
    } catch (err) {
      fail(err);
    }
  }

  async function bookWalkIn(w: WalkInHold): Promise<void> {
    try {
      const b = await api<BookingView>('POST', `/api/admin/holds/${encodeURIComponent(w.token)}/book`, undefined, { 'idempotency-key': keyFor(w.token) });
      walkIns.splice(walkIns.indexOf(w), 1);
      renderWalkIns();
      say(`Booked for ${w.customer.name}: reference ${b.reference}, ${money(b.totalCents, b.currency)}.`, 'ok');
    } catch (err) {
      fail(err);
    }
  }
  const keys = new Map<string, string>();
  const keyFor = (token: string) => keys.get(token) ?? (keys.set(token, newIdempotencyKey()), keys.get(token)!);

  async function releaseToken(token: string, seatIds?: number[]): Promise<void> {
    try {
      await api('DELETE', `/api/admin/holds/${encodeURIComponent(token)}`, seatIds ? { seatIds } : undefined);
      const w = walkIns.find((x) => x.token === token);
      if (w) w.seatIds = seatIds ? w.seatIds.filter((id) => !seatIds.includes(id)) : [];
      if (w && !w.seatIds.length) walkIns.splice(walkIns.indexOf(w), 1);
      renderWalkIns();
      say('Released.', 'ok');
    } catch (err) {
      fail(err);
    }
  }

  async function forceRelease(): Promise<void> {
    const held = selectedSeats().filter((s) => live.map.seats.get(s.id)?.status === 'held');
    if (!held.length) return say('Select held seats to release them.', 'info');
    // A hold is released by its token: known for this terminal's walk-in holds, or when the server sends it.
    const byToken = new Map<string, number[]>();
    const unknown: LayoutSeat[] = [];
    for (const s of held) {
      const token = holders.get(s.id)?.holdToken ?? walkIns.find((w) => w.seatIds.includes(s.id))?.token;
      if (!token) unknown.push(s);
      else byToken.set(token, [...(byToken.get(token) ?? []), s.id]);
    }
    for (const [token, ids] of byToken) await releaseToken(token, ids);
    if (unknown.length) say(`Cannot force-release ${unknown.map(short).join(', ')}: the server does not tell this terminal which hold they belong to.`, 'error', 'NOT_SUPPORTED');
    else clearSelection();
  }

  async function block(unblock: boolean): Promise<void> {
    const ids = selectedSeats()
      .filter((s) => (unblock ? live.map.seats.get(s.id)?.status === 'blocked' : live.map.seats.get(s.id)?.status === 'available'))
      .map((s) => s.id);
    if (!ids.length) return say(unblock ? 'Select blocked seats to unblock them.' : 'Select available seats to block them.', 'info');
    try {
      const reply = await api<{ seats: SeatState[] }>('POST', `/api/admin/events/${eventId}/seats/${unblock ? 'unblock' : 'block'}`, unblock ? { seatIds: ids } : { seatIds: ids, reason: 'house' });
      applyStates(reply.seats);
      clearSelection();
      say(`${unblock ? 'Unblocked' : 'Blocked'} ${ids.length} seat(s).`, 'ok');
    } catch (err) {
      fail(err);
    }
  }

  // ----- panels -----
  function renderCounts(): void {
    showCounts(counts, live.map.counts());
  }

  function renderWalkIns(): void {
    walkInList.render(walkIns);
  }

  function renderSelection(): void {
    const list = selectedSeats();
    const name = h('input', { type: 'text', id: 'walkin-name', required: true, maxlength: 120, autocomplete: 'off' });
    const email = h('input', { type: 'email', id: 'walkin-email', maxlength: 254, autocomplete: 'off' });
    const form = h('form', { id: 'walkin-form', class: 'walkin' }, h('label', {}, 'Customer name ', name), h('label', {}, 'Email (optional) ', email), h('button', { type: 'submit', id: 'walkin-hold', class: 'primary', text: 'Hold for walk-in' }));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void holdForWalkIn(name.value.trim(), email.value.trim());
    });
    fill(
      selection,
      h('h2', { text: `Selected seats (${list.length})` }),
      list.length
        ? h(
            'ul',
            { class: 'hold-list', id: 'selected-list' },
            list.map((s) => h('li', { 'data-seat-id': s.id, text: describe(s) })),
          )
        : h('p', { text: 'Click seats (or focus the map, use the arrow keys and Enter) to select them.' }),
      form,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', id: 'force-release', text: 'Force release', onclick: () => void forceRelease() }),
        h('button', { type: 'button', id: 'block', text: 'Block', onclick: () => void block(false) }),
        h('button', { type: 'button', id: 'unblock', text: 'Unblock', onclick: () => void block(true) }),
        h('button', { type: 'button', class: 'link', id: 'clear-selection', text: 'Clear', onclick: clearSelection }),
      ),
    );
  }

  renderSelection();
  renderWalkIns();
  renderCounts();
  try {
    await feed.load(eventId);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) fail(err);
  }

  (window as unknown as { evently: unknown }).evently = {
    seat: (id: number) => {
      const s = live.map.seats.get(id);
      return s ? { ...s, holder: holders.get(id) ?? null, selected: selected.has(id) } : null;
    },
    seatPoint: (id: number) => canvas.seatPoint(id),
    connected: () => live.socket.connected,
    counts: () => live.map.counts(),
  };
}
