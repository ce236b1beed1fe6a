import type { WaitlistEntryView } from '../../packages/client/src';
import { session } from './api';
import { fill, h } from './dom';
import type { PickerContext } from './picker-context';

/** The waitlist panel of the seat picker, and the user's entry as last read. */
export interface WaitlistPanel {
  element: HTMLElement;
  /** The user's waiting or offered entry, or null. */
  current(): WaitlistEntryView | null;
  /** Re-reads the entry (`waitlist:status`); an open offer becomes the current hold. */
  refresh(): Promise<void>;
  render(): void;
}

/**
 * Sold out: join the waitlist (party size, together); on the list: your place and a way to leave; offered: the
 * offer's seats are the current hold, booked through "Your seats" (`waitlist:accept`).
 */
export function waitlistPanel(ctx: PickerContext, onChange: () => void): WaitlistPanel {
  const { event, eventId, live, say, sayError } = ctx;
  const element = h('section', { class: 'panel', id: 'waitlist-panel', hidden: true });
  let waitlist: WaitlistEntryView | null = null;
  const soldOut = () => live.map.seats.size > 0 && live.map.counts().available === 0;

  async function refresh(): Promise<void> {
    if (!session.get() || !live.socket.connected) {
      waitlist = null;
      render();
      return;
    }
    const r = await live.call<WaitlistEntryView | null>('waitlist:status', {}, 4000);
    waitlist = r.ok && r.data && ['waiting', 'offered'].includes(r.data.status) ? r.data : null;
    const hold = ctx.hold();
    if (waitlist?.status === 'offered' && waitlist.offer && (!hold || hold.holdToken !== waitlist.offer.holdToken)) {
      ctx.adoptHold({ holdToken: waitlist.offer.holdToken, eventId, expiresAt: waitlist.offer.expiresAt, maxExpiresAt: waitlist.offer.expiresAt, seats: waitlist.offer.seats }, false);
    }
    render();
    onChange();
  }

  function render(): void {
    element.hidden = !soldOut() && !waitlist;
    if (waitlist) {
      const entry = waitlist;
      fill(
        element,
        h('h2', { text: 'Waitlist' }),
        entry.status === 'offered'
          ? h('p', { id: 'waitlist-state', text: 'Seats were offered to you: book them in "Your seats" before the timer runs out.' })
          : h('p', { id: 'waitlist-state', text: `You are on the waitlist for ${entry.partySize} seat${entry.partySize === 1 ? '' : 's'}${entry.position ? `, number ${entry.position} in line` : ''}. Keep this page open: an offer appears here live.` }),
        entry.status === 'waiting'
          ? h('button', {
              type: 'button',
              id: 'waitlist-leave',
              text: 'Leave the waitlist',
              onclick: async () => {
                const r = await live.call<WaitlistEntryView>('waitlist:leave', { entryId: entry.id });
                if (!r.ok) return sayError(r.error);
                waitlist = null;
                render();
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
      render();
    });
    fill(element, form);
  }

  return { element, current: () => waitlist, refresh, render };
}
