import type { LayoutSeat } from './api';

/** Seats of one row of a section, left to right. */
export interface Row {
  key: string;
  section: number;
  seats: number[]; // indexes into `seats`, sorted by x
  y: number;
  minX: number;
}

/**
 * The seat map's geometry as an index: seats by id, rows in walking order (sections nearest the stage first, then
 * left to right; within a section nearest the stage first), each seat's row and place in it, and 1-unit buckets
 * for hit testing. Built once per layout; the canvas draws with it and the keyboard walks it.
 */
export class SeatGrid {
  readonly byId = new Map<number, number>();
  readonly rows: Row[] = [];
  readonly rowOf: number[] = [];
  readonly posInRow: number[] = [];
  private readonly buckets = new Map<string, number[]>();
  minX = 0;
  minY = 0;
  spanX = 1;
  spanY = 1;

  constructor(private readonly seats: LayoutSeat[]) {
    let minX = Infinity;
    let maxX = -Infinity;
    let minY = Infinity;
    let maxY = -Infinity;
    const rowMap = new Map<string, number[]>();
    seats.forEach((s, i) => {
      this.byId.set(s.id, i);
      minX = Math.min(minX, s.x);
      maxX = Math.max(maxX, s.x);
      minY = Math.min(minY, s.y);
      maxY = Math.max(maxY, s.y);
      const key = `${s.sectionId}\u0000${s.row}`;
      let r = rowMap.get(key);
      if (!r) rowMap.set(key, (r = []));
      r.push(i);
      const bk = `${Math.round(s.x)},${Math.round(s.y)}`;
      let b = this.buckets.get(bk);
      if (!b) this.buckets.set(bk, (b = []));
      b.push(i);
    });
    if (!seats.length) minX = maxX = minY = maxY = 0;
    this.minX = minX;
    this.minY = minY;
    this.spanX = maxX - minX + 1;
    this.spanY = maxY - minY + 1;
    for (const [key, list] of rowMap) {
      list.sort((a, b) => this.seats[a]!.x - this.seats[b]!.x);
      const y = list.reduce((t, i) => t + this.seats[i]!.y, 0) / list.length;
      this.rows.push({ key, section: this.seats[list[0]!]!.sectionId, seats: list, y, minX: this.seats[list[0]!]!.x });
    }
    // Rows grouped by section (sections nearest the stage first, then left to right), and within a section
    // nearest the stage first: Up and Down walk a section's rows, then continue into the next section.
    const secY = new Map<number, { y: number; x: number; n: number }>();
    for (const r of this.rows) {
      const e = secY.get(r.section) ?? { y: 0, x: Infinity, n: 0 };
      e.y += r.y;
      e.n++;
      e.x = Math.min(e.x, r.minX);
      secY.set(r.section, e);
    }
    const secKey = (id: number) => {
      const e = secY.get(id)!;
      return [e.y / e.n, e.x] as const;
    };
    this.rows.sort((a, b) => {
      if (a.section !== b.section) {
        const [ay, ax] = secKey(a.section);
        const [by, bx] = secKey(b.section);
        return ay - by || ax - bx || a.section - b.section;
      }
      return a.y - b.y || a.minX - b.minX;
    });
    this.rows.forEach((r, ri) =>
      r.seats.forEach((i, p) => {
        this.rowOf[i] = ri;
        this.posInRow[i] = p;
      }),
    );
  }

  /** The seat within 0.6 layout units of (lx, ly), or -1: a lookup in the 1-unit buckets around the point. */
  seatNear(lx: number, ly: number): number {
    let best = -1;
    let bestD = 0.6 * 0.6;
    for (let dx = -1; dx <= 1; dx++) {
      for (let dy = -1; dy <= 1; dy++) {
        for (const i of this.buckets.get(`${Math.round(lx) + dx},${Math.round(ly) + dy}`) ?? []) {
          const s = this.seats[i]!;
          const d = (s.x - lx) ** 2 + (s.y - ly) ** 2;
          if (d < bestD) {
            bestD = d;
            best = i;
          }
        }
      }
    }
    return best;
  }

  /** The first seat in walking order (where the keyboard focus starts). */
  firstSeat(): number {
    return this.rows[0]?.seats[0] ?? 0;
  }

  /** Where a navigation key moves the focus from seat `i` (along the row, to the nearest seat of the next row); undefined for other keys. */
  step(i: number, key: string): number | undefined {
    const row = this.rows[this.rowOf[i]!]!;
    const pos = this.posInRow[i]!;
    const toRow = (ri: number) => {
      const target = this.rows[ri];
      if (!target) return i;
      const x = this.seats[i]!.x;
      let best = target.seats[0]!;
      for (const j of target.seats) if (Math.abs(this.seats[j]!.x - x) < Math.abs(this.seats[best]!.x - x)) best = j;
      return best;
    };
    switch (key) {
      case 'ArrowRight':
        return row.seats[Math.min(pos + 1, row.seats.length - 1)]!;
      case 'ArrowLeft':
        return row.seats[Math.max(pos - 1, 0)]!;
      case 'ArrowDown':
        return toRow(this.rowOf[i]! + 1);
      case 'ArrowUp':
        return toRow(this.rowOf[i]! - 1);
      case 'Home':
        return row.seats[0]!;
      case 'End':
        return row.seats[row.seats.length - 1]!;
      default:
        return undefined;
    }
  }
}
