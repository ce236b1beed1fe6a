import type { SeatCanvas } from './seat-canvas';

/** Zoom buttons for a SeatCanvas (the map also takes + and - from the keyboard). */
export function zoomBar(canvas: SeatCanvas): HTMLElement {
  const bar = document.createElement('div');
  bar.className = 'zoom';
  const button = (text: string, label: string, f: () => number) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = text;
    b.setAttribute('aria-label', label);
    b.addEventListener('click', () => canvas.setZoom(f()));
    return b;
  };
  bar.append(button('+', 'Zoom in', () => canvas.zoomFactor * 1.5), button('−', 'Zoom out', () => canvas.zoomFactor / 1.5), button('Fit', 'Fit the whole venue', () => 1));
  return bar;
}
