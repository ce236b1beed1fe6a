import type { SeatInput, SectionInput } from '../contracts/venues';

/** Row labels A..Z, then AA, AB, … */
export function rowLabel(index: number): string {
  let s = '';
  let n = index;
  do {
    s = String.fromCharCode(65 + (n % 26)) + s;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return s;
}

export interface RectangularSpec {
  name: string;
  rows: number;
  seatsPerRow: number;
  category: string | ((row: number) => string);
  /** Top-left corner and spacing, in layout units (1 unit ~ one seat width). */
  originX?: number;
  originY?: number;
  spacing?: number;
  /** Row indexes (0-based) whose end seats are wheelchair spaces. */
  accessibleRows?: number[];
}

/** A block of straight rows; row A is nearest the stage (smallest y). */
export function rectangularSection(spec: RectangularSpec): SectionInput {
  const spacing = spec.spacing ?? 1;
  const seats: SeatInput[] = [];
  for (let r = 0; r < spec.rows; r++) {
    for (let n = 1; n <= spec.seatsPerRow; n++) {
      seats.push({
        row: rowLabel(r),
        number: n,
        x: (spec.originX ?? 0) + (n - 1) * spacing,
        y: (spec.originY ?? 0) + r * spacing,
        category: typeof spec.category === 'function' ? spec.category(r) : spec.category,
        accessible: (spec.accessibleRows ?? []).includes(r) && (n === 1 || n === spec.seatsPerRow),
      });
    }
  }
  return { name: spec.name, kind: 'seated', seats };
}

export interface CurvedSpec {
  name: string;
  rows: number;
  /** Seats in the first row; each further row adds `seatsAddedPerRow`. */
  firstRowSeats: number;
  seatsAddedPerRow?: number;
  category: string | ((row: number) => string);
  /** Centre of the arc (the stage) and the first row's radius. */
  centerX?: number;
  centerY?: number;
  radius?: number;
  rowSpacing?: number;
  /** Total angle of the arc in degrees, centred below the stage. */
  arcDegrees?: number;
}

/** Rows on concentric arcs around the stage, like a theatre's circle. */
export function curvedSection(spec: CurvedSpec): SectionInput {
  const seats: SeatInput[] = [];
  const cx = spec.centerX ?? 0;
  const cy = spec.centerY ?? 0;
  const arc = ((spec.arcDegrees ?? 100) * Math.PI) / 180;
  for (let r = 0; r < spec.rows; r++) {
    const count = spec.firstRowSeats + r * (spec.seatsAddedPerRow ?? 2);
    const radius = (spec.radius ?? 10) + r * (spec.rowSpacing ?? 1.1);
    for (let n = 1; n <= count; n++) {
      // Seat 1 on the audience's left; angle measured from straight below the stage.
      const t = count === 1 ? 0 : (n - 1) / (count - 1) - 0.5;
      const angle = t * arc;
      seats.push({
        row: rowLabel(r),
        number: n,
        x: Math.round((cx + radius * Math.sin(angle)) * 100) / 100,
        y: Math.round((cy + radius * Math.cos(angle)) * 100) / 100,
        category: typeof spec.category === 'function' ? spec.category(r) : spec.category,
        accessible: false,
      });
    }
  }
  return { name: spec.name, kind: 'seated', seats };
}
