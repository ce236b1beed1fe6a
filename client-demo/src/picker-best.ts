import type { HoldView } from '../../packages/client/src';
import { session, type LayoutSeat } from './api';
import { h, money } from './dom';
import type { PickerContext } from './picker-context';

/** "Best available": how many seats, optionally a price category; the server picks adjacent seats nearest the stage. */
export function bestPanel(ctx: PickerContext, seatById: Map<number, LayoutSeat>, focusSeat: (id: number) => void): HTMLElement {
  const { event, live, say } = ctx;
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

  return bestForm;

  async function bestAvailable(quantity: number, category?: string): Promise<void> {
    if (!session.get()) return say('Please sign in (top right) to choose seats.', 'error', 'UNAUTHORIZED');
    if (ctx.hold()) return say('Book or release the seats you hold before asking for the best available.', 'info');
    if (!Number.isInteger(quantity) || quantity < 1) return say('Enter how many seats you want.', 'error', 'VALIDATION_FAILED');
    const payload: { quantity: number; category?: string } = { quantity };
    if (category) payload.category = category;
    const data = await ctx.run(async () => {
      const r = await live.call<HoldView>('seat:best', payload);
      // An unknown command is never answered: say so plainly instead of "try again".
      if (!r.ok && r.error.code === 'NO_ANSWER') return { ok: false as const, error: { code: 'NOT_SUPPORTED', message: 'seat:best unavailable' } };
      return r;
    });
    if (!data) return;
    ctx.adoptHold(data, true);
    const labels = data.seats.map((s) => seatById.get(s.id)).filter(Boolean) as LayoutSeat[];
    say(`Holding ${labels.length} seat${labels.length === 1 ? '' : 's'}: ${labels.map((s) => `${s.section} ${s.row}${s.number}`).join(', ')}.`, 'ok');
    if (labels[0]) focusSeat(labels[0].id);
  }
}
