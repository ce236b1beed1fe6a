import type { SeatState } from '../../packages/client/src';
import type { Look } from './seat-shapes';

/** Category colours, in the order of the event's price list. Chosen to stay apart for common colour blindness. */
const CATEGORY_COLOURS = ['#1c7ed6', '#2b8a3e', '#e8590c', '#7048e8', '#0c8599', '#c2255c', '#5c940d', '#862e9c'];

export function categoryColours(categories: string[]): Map<string, string> {
  return new Map(categories.map((c, i) => [c, CATEGORY_COLOURS[i % CATEGORY_COLOURS.length]!]));
}

export const STATUS_LOOKS = {
  held: { shape: 'ring', fill: '#f08c00' },
  mine: { shape: 'diamond', fill: '#d6336c' },
  booked: { shape: 'square', fill: '#868e96' },
  blocked: { shape: 'bar', fill: '#212529' },
} satisfies Record<string, Look>;

/** How a seat looks given its live state; `mine` marks the viewer's own held or booked seats. */
export function lookOf(state: SeatState | undefined, category: string, colours: Map<string, string>, mine: boolean): Look {
  if (!state) return { shape: 'ring', fill: '#ced4da' };
  if (mine && (state.status === 'held' || state.status === 'booked')) return STATUS_LOOKS.mine;
  switch (state.status) {
    case 'available':
      return { shape: 'circle', fill: colours.get(category) ?? '#1c7ed6' };
    case 'held':
      return STATUS_LOOKS.held;
    case 'booked':
      return STATUS_LOOKS.booked;
    case 'blocked':
      return STATUS_LOOKS.blocked;
  }
}

export const STATUS_WORDS: Record<SeatState['status'], string> = { available: 'available', held: 'held by someone', booked: 'sold', blocked: 'not for sale' };

/** A legend swatch drawn with the same shape code as the map. */
export function swatch(look: Look, drawShape: (ctx: CanvasRenderingContext2D, l: Look, x: number, y: number, r: number) => void): HTMLCanvasElement {
  const c = document.createElement('canvas');
  const dpr = window.devicePixelRatio || 1;
  c.width = 18 * dpr;
  c.height = 18 * dpr;
  c.style.width = '18px';
  c.style.height = '18px';
  c.setAttribute('aria-hidden', 'true');
  const ctx = c.getContext('2d')!;
  ctx.scale(dpr, dpr);
  drawShape(ctx, look, 9, 9, 6.5);
  return c;
}
