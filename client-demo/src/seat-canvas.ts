import type { LayoutSeat } from './api';
import { SeatGrid } from './seat-grid';
import { drawShape, type Look } from './seat-shapes';

export interface SeatCanvasOptions {
  /** Status, price and holder in words, for the live region and the hover line. */
  describe(seat: LayoutSeat): string;
  look(seat: LayoutSeat): Look;
  /** Click, Enter or Space on a seat. */
  activate(seat: LayoutSeat): void;
  /** The polite live region that reads the focused seat. */
  live: HTMLElement;
  /** Where the hovered seat is described. */
  hoverLine?: HTMLElement;
}

const BG = '#ffffff';
const PAD_X = 34;
const PAD_TOP = 56;
const PAD_BOTTOM = 12;

/**
 * The venue drawn to scale on a canvas, with a second canvas on top for the keyboard focus ring. A seat
 * change redraws only that seat's cell (never the whole venue, never DOM nodes per seat), which keeps a
 * 20,000-seat map smooth. The canvas is focusable: arrow keys walk seats along a row and between rows, Home
 * and End jump to a row's ends, Enter or Space activates, and a live region reads "Stalls row A seat 12,
 * available, 59 EUR".
 */
export class SeatCanvas {
  readonly element: HTMLElement;
  private readonly base: HTMLCanvasElement;
  private readonly overlay: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly octx: CanvasRenderingContext2D;
  private readonly grid: SeatGrid;
  private unit = 10;
  private dpr = 1;
  private focusIndex = -1;
  private hoverIndex = -1;
  private zoom = 1;
  private width = 800;

  constructor(
    private readonly seats: LayoutSeat[],
    private readonly opts: SeatCanvasOptions,
  ) {
    this.base = document.createElement('canvas');
    this.overlay = document.createElement('canvas');
    this.base.className = 'seat-canvas';
    this.overlay.className = 'seat-overlay';
    this.overlay.tabIndex = 0;
    this.overlay.setAttribute('role', 'application');
    this.overlay.setAttribute('aria-roledescription', 'seat map');
    this.overlay.setAttribute(
      'aria-label',
      `Seat map, ${seats.length} seats. Use the arrow keys to move between seats, Home and End for the ends of a row, Enter or Space to choose the seat.`,
    );
    this.element = document.createElement('div');
    this.element.className = 'seat-map';
    this.element.append(this.base, this.overlay);
    this.ctx = this.base.getContext('2d')!;
    this.octx = this.overlay.getContext('2d')!;
    this.grid = new SeatGrid(seats);
    this.overlay.addEventListener('click', (e) => this.onClick(e));
    this.overlay.addEventListener('mousemove', (e) => this.onHover(e));
    this.overlay.addEventListener('keydown', (e) => this.onKey(e));
    this.overlay.addEventListener('focus', () => {
      if (this.focusIndex < 0 && this.seats.length) this.setFocus(this.grid.firstSeat());
      else this.drawOverlay();
    });
    this.overlay.addEventListener('blur', () => this.drawOverlay());
  }

  /** Lays the map out for the width available and draws everything once. */
  layout(width: number): void {
    this.width = width;
    const fit = Math.max(4, Math.min(26, ((width - PAD_X * 2) / this.grid.spanX)));
    this.unit = Math.floor(Math.max(4, Math.min(40, fit * this.zoom)) * 10) / 10;
    this.dpr = window.devicePixelRatio || 1;
    const w = Math.ceil(this.grid.spanX * this.unit + PAD_X * 2);
    const hgt = Math.ceil(this.grid.spanY * this.unit + PAD_TOP + PAD_BOTTOM);
    for (const c of [this.base, this.overlay]) {
      c.width = Math.round(w * this.dpr);
      c.height = Math.round(hgt * this.dpr);
      c.style.width = `${w}px`;
      c.style.height = `${hgt}px`;
    }
    this.element.style.width = `${w}px`;
    this.element.style.height = `${hgt}px`;
    this.ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    this.octx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    this.redrawAll();
  }

  redrawAll(): void {
    const ctx = this.ctx;
    const w = this.grid.spanX * this.unit + PAD_X * 2;
    ctx.fillStyle = BG;
    ctx.fillRect(0, 0, w, this.grid.spanY * this.unit + PAD_TOP + PAD_BOTTOM);
    // The stage sits at the smallest y (row A is nearest the stage).
    ctx.fillStyle = '#343a40';
    const stageW = Math.min(w * 0.5, 320);
    ctx.fillRect((w - stageW) / 2, 6, stageW, 18);
    ctx.fillStyle = '#fff';
    ctx.font = '600 11px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText('STAGE', w / 2, 15);
    this.drawLabels();
    for (let i = 0; i < this.seats.length; i++) this.drawSeat(i);
    this.drawOverlay();
  }

  /** Zooms by `factor` (1 = fit the width); big venues get readable seats, the scroller pans. */
  setZoom(factor: number): void {
    this.zoom = Math.max(1, Math.min(8, factor));
    this.layout(this.width);
    if (this.focusIndex >= 0) this.setFocus(this.focusIndex);
  }

  get zoomFactor(): number {
    return this.zoom;
  }

  /** Redraws just these seats (after a change batch). */
  redraw(ids: Iterable<number>): void {
    for (const id of ids) {
      const i = this.grid.byId.get(id);
      if (i !== undefined) this.drawSeat(i);
      if (i === this.hoverIndex && this.opts.hoverLine) this.opts.hoverLine.textContent = this.opts.describe(this.seats[i]!);
      // The focused seat changed under the keyboard user: say its new status.
      if (i === this.focusIndex && document.activeElement === this.overlay) this.opts.live.textContent = this.opts.describe(this.seats[i]!);
    }
    if (this.focusIndex >= 0 && document.activeElement === this.overlay) this.drawOverlay();
  }

  /** The centre of a seat in CSS pixels relative to the canvas (tests click there). */
  seatPoint(id: number): { x: number; y: number } | null {
    const i = this.grid.byId.get(id);
    if (i === undefined) return null;
    return this.center(i);
  }

  focusSeat(id: number): void {
    const i = this.grid.byId.get(id);
    if (i !== undefined) this.setFocus(i);
  }

  /** Re-announces the focused seat (its status changed while it had focus). */
  refreshAnnouncement(id: number): void {
    if (this.focusIndex >= 0 && this.seats[this.focusIndex]!.id === id && document.activeElement === this.overlay) {
      this.opts.live.textContent = this.opts.describe(this.seats[this.focusIndex]!);
    }
  }

  private center(i: number): { x: number; y: number } {
    const s = this.seats[i]!;
    return { x: PAD_X + (s.x - this.grid.minX + 0.5) * this.unit, y: PAD_TOP + (s.y - this.grid.minY + 0.5) * this.unit };
  }

  private drawSeat(i: number): void {
    const { x, y } = this.center(i);
    const r = this.unit * 0.42;
    const e = this.unit * 0.5;
    this.ctx.fillStyle = BG;
    this.ctx.fillRect(x - e, y - e, e * 2, e * 2);
    drawShape(this.ctx, this.opts.look(this.seats[i]!), x, y, r);
  }

  private drawLabels(): void {
    const ctx = this.ctx;
    ctx.fillStyle = '#495057';
    ctx.textBaseline = 'middle';
    // Section names above each section's first row; row letters left of each row when there is room.
    // Section names sit just above the section's middle seats (a curved section's ends rise higher).
    const sections = new Map<number, { name: string; minX: number; maxX: number; seats: LayoutSeat[] }>();
    for (const s of this.seats) {
      const e = sections.get(s.sectionId);
      if (!e) sections.set(s.sectionId, { name: s.section, minX: s.x, maxX: s.x, seats: [s] });
      else {
        e.minX = Math.min(e.minX, s.x);
        e.maxX = Math.max(e.maxX, s.x);
        e.seats.push(s);
      }
    }
    ctx.font = '600 12px system-ui, sans-serif';
    ctx.textAlign = 'center';
    for (const sec of sections.values()) {
      const mid = (sec.minX + sec.maxX) / 2;
      let top = Infinity;
      for (const s of sec.seats) if (Math.abs(s.x - mid) <= 1.5) top = Math.min(top, s.y);
      if (!Number.isFinite(top)) top = Math.min(...sec.seats.map((s) => s.y));
      const cx = PAD_X + (mid - this.grid.minX + 0.5) * this.unit;
      const cy = PAD_TOP + (top - this.grid.minY) * this.unit - 7;
      ctx.fillText(sec.name, cx, cy);
    }
    if (this.unit >= 9) {
      ctx.font = `${Math.min(11, this.unit * 0.8)}px system-ui, sans-serif`;
      ctx.textAlign = 'right';
      for (const row of this.grid.rows) {
        const first = this.center(row.seats[0]!);
        ctx.fillText(this.seats[row.seats[0]!]!.row, first.x - this.unit * 0.6, first.y);
      }
    }
  }

  private drawOverlay(): void {
    const o = this.octx;
    o.clearRect(0, 0, this.overlay.width, this.overlay.height);
    if (this.focusIndex < 0 || document.activeElement !== this.overlay) return;
    const { x, y } = this.center(this.focusIndex);
    // A black ring just outside the seat with a white one inside it: visible on any seat colour, and
    // small enough not to hide the neighbours.
    const r = Math.max(5, this.unit * 0.56);
    o.strokeStyle = '#000';
    o.lineWidth = 2.5;
    o.beginPath();
    o.arc(x, y, r, 0, Math.PI * 2);
    o.stroke();
    o.strokeStyle = '#fff';
    o.lineWidth = 1;
    o.beginPath();
    o.arc(x, y, r - 1.75, 0, Math.PI * 2);
    o.stroke();
  }

  private seatAt(ev: MouseEvent): number {
    const rect = this.overlay.getBoundingClientRect();
    const lx = (ev.clientX - rect.left - PAD_X) / this.unit + this.grid.minX - 0.5;
    const ly = (ev.clientY - rect.top - PAD_TOP) / this.unit + this.grid.minY - 0.5;
    return this.grid.seatNear(lx, ly);
  }

  private onClick(ev: MouseEvent): void {
    const i = this.seatAt(ev);
    if (i < 0) return;
    this.focusIndex = i;
    this.opts.live.textContent = this.opts.describe(this.seats[i]!);
    this.opts.activate(this.seats[i]!);
  }

  private onHover(ev: MouseEvent): void {
    const i = this.seatAt(ev);
    this.hoverIndex = i;
    this.overlay.style.cursor = i >= 0 ? 'pointer' : 'default';
    if (this.opts.hoverLine) this.opts.hoverLine.textContent = i >= 0 ? this.opts.describe(this.seats[i]!) : '';
  }

  private setFocus(i: number): void {
    this.focusIndex = i;
    this.drawOverlay();
    this.opts.live.textContent = this.opts.describe(this.seats[i]!);
    // Keep the focused seat in view when the map scrolls.
    const { x, y } = this.center(i);
    const scroller = this.element.parentElement;
    if (scroller && scroller.scrollWidth > scroller.clientWidth) {
      if (x < scroller.scrollLeft + 20 || x > scroller.scrollLeft + scroller.clientWidth - 20) scroller.scrollLeft = x - scroller.clientWidth / 2;
    }
    if (scroller && scroller.scrollHeight > scroller.clientHeight) {
      if (y < scroller.scrollTop + 20 || y > scroller.scrollTop + scroller.clientHeight - 20) scroller.scrollTop = y - scroller.clientHeight / 2;
    }
  }

  private onKey(ev: KeyboardEvent): void {
    if (!this.seats.length) return;
    const i = this.focusIndex < 0 ? this.grid.firstSeat() : this.focusIndex;
    switch (ev.key) {
      case '+':
      case '=':
        this.setZoom(this.zoom * 1.5);
        ev.preventDefault();
        return;
      case '-':
        this.setZoom(this.zoom / 1.5);
        ev.preventDefault();
        return;
      case 'Enter':
      case ' ':
        ev.preventDefault();
        this.focusIndex = i;
        this.opts.activate(this.seats[i]!);
        return;
    }
    const next = this.grid.step(i, ev.key);
    if (next === undefined) return;
    ev.preventDefault();
    this.setFocus(next);
  }
}
