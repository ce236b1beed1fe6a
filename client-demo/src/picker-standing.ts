import type { GaAreaState, GaHoldView } from '../../packages/client/src';
import { api, session } from './api';
import { fill, h, money } from './dom';
import type { PickerContext } from './picker-context';

interface GaArea {
  sectionId: number;
  name: string;
  available: number;
  priceCents: number;
  version: number;
}

/**
 * General admission in the seat picker: standing areas are a count, not seats on the map. Lists each area with
 * what is left (kept live by `ga:changed`, highest version per area wins) and holds N tickets of one.
 */
export function standingPanel(ctx: PickerContext): HTMLElement {
  const { event, eventId, layout, live, say } = ctx;
  const panel = h('section', { class: 'panel', id: 'ga-panel', hidden: true, 'aria-label': 'Standing tickets' });
  const gaAreas = new Map<number, GaArea>();
  const gaQty = h('input', { type: 'number', id: 'ga-qty', min: 1, max: event.maxSeatsPerOrder, value: 2, 'aria-label': 'Number of standing tickets' });
  const gaSelect = h('select', { id: 'ga-area', 'aria-label': 'Standing area' });
  const gaList = h('ul', { class: 'legend-list', id: 'ga-list' });
  const gaForm = h('form', {}, h('h2', { text: 'Standing' }), gaList, h('label', {}, 'Tickets ', gaQty), ' ', gaSelect, ' ', h('button', { type: 'submit', id: 'ga-submit', text: 'Hold tickets' }));
  panel.append(gaForm);
  const renderGa = () => {
    panel.hidden = gaAreas.size === 0;
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
    if (ctx.hold()) return say('Book or release what you hold before adding standing tickets.', 'info');
    const data = await ctx.run(() => live.call<GaHoldView>('ga:hold', { sectionId: Number(gaSelect.value), quantity: Number(gaQty.value) }));
    if (!data) return;
    ctx.adoptHold(data, true);
    say(`Holding ${gaQty.value} standing ticket(s).`, 'ok');
    void loadGa();
  });
  return panel;
}
