/**
 * Best-available seat selection: a pure function over a snapshot of seats, no database. The transactional
 * part (read, pick, compare-and-set, try the next best on a conflict) is in best-service.ts; the waitlist
 * uses the same ranking to decide what to offer.
 *
 * Rules, in order of importance:
 * 1. Seats of one block are adjacent: consecutive seat numbers in the same section and row.
 * 2. Never leave a single free seat stranded (a run of exactly one free seat between taken seats or a row
 *    end) when some block that strands nobody exists anywhere in scope.
 * 3. Nearest the stage: rows ranked by section sort order, then row index within the section.
 * 4. Nearest the middle of the row, then lowest seat number (deterministic).
 * Only when no adjacent block exists at all, and the caller allows it, the seats are split: whole free runs
 * taken row by row from the stage backwards, largest run first.
 */

/** One seat as the selector sees it. `free` means it can be held now. */
export interface Candidate {
  seatId: number;
  sectionId: number;
  /** The section's sort_order (stage first). */
  sectionOrder: number;
  row: string;
  number: number;
  free: boolean;
}

/** A laid-out seat row as the database gives it (seat-store's LaidOutSeat, structurally): what a Candidate needs. */
export interface LaidOutSeatLike {
  seat_id: number;
  section_id: number;
  sort_order: number;
  row_label: string;
  number: number;
}

/** The selector's view of a laid-out seat; `free` is the caller's rule (available now, or lapsed too). */
export function candidateOf(s: LaidOutSeatLike, free: boolean): Candidate {
  return { seatId: s.seat_id, sectionId: s.section_id, sectionOrder: s.sort_order, row: s.row_label, number: s.number, free };
}

export interface PickOptions {
  quantity: number;
  allowSplit?: boolean;
  /** How many ranked alternatives to return (the first is the best). */
  alternatives?: number;
}

export interface Pick {
  seatIds: number[];
  /** True when the seats are not one adjacent block (only with allowSplit). */
  split: boolean;
  /** True when taking this block leaves a single free seat stranded. */
  strands: boolean;
}

/**
 * Orders row labels as people read them: numeric labels numerically, otherwise shorter first then
 * alphabetically, so A..Z comes before AA..AZ.
 */
export function compareRowLabels(a: string, b: string): number {
  const na = /^\d+$/.test(a);
  const nb = /^\d+$/.test(b);
  if (na && nb) return Number(a) - Number(b);
  if (na !== nb) return na ? -1 : 1;
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

interface Row {
  key: string;
  rank: number;
  seats: Candidate[]; // sorted by number
}

/** Groups seats into rows and ranks rows from the stage backwards. */
export function rankRows(seats: Candidate[]): Row[] {
  const byKey = new Map<string, Candidate[]>();
  for (const s of seats) {
    const key = `${s.sectionId}\u0000${s.row}`;
    const list = byKey.get(key);
    if (list) list.push(s);
    else byKey.set(key, [s]);
  }
  const rows = [...byKey.entries()].map(([key, list]) => ({ key, rank: 0, seats: list.sort((a, b) => a.number - b.number) }));
  rows.sort((a, b) => {
    const x = a.seats[0]!;
    const y = b.seats[0]!;
    return x.sectionOrder - y.sectionOrder || x.sectionId - y.sectionId || compareRowLabels(x.row, y.row);
  });
  rows.forEach((r, i) => (r.rank = i));
  return rows;
}

/** Maximal runs of free seats with consecutive numbers in one row. */
function freeRuns(row: Row): Candidate[][] {
  const runs: Candidate[][] = [];
  let current: Candidate[] = [];
  for (const s of row.seats) {
    const prev = current[current.length - 1];
    if (s.free && prev && s.number === prev.number + 1) current.push(s);
    else {
      if (current.length) runs.push(current);
      current = s.free ? [s] : [];
    }
  }
  if (current.length) runs.push(current);
  return runs;
}

interface Scored {
  seats: Candidate[];
  strands: boolean;
  rank: number;
  centre: number;
}

/**
 * Returns up to `alternatives` picks of `quantity` seats, best first; empty when nothing fits. Alternatives
 * let the caller try the next best block when a concurrent hold took the first one.
 */
export function pickBest(seats: Candidate[], opts: PickOptions): Pick[] {
  const q = opts.quantity;
  const want = opts.alternatives ?? 1;
  if (!Number.isInteger(q) || q < 1) return [];
  const rows = rankRows(seats);
  const blocks: Scored[] = [];
  for (const row of rows) {
    const first = row.seats[0]!.number;
    const last = row.seats[row.seats.length - 1]!.number;
    const middle = (first + last) / 2;
    for (const run of freeRuns(row)) {
      for (let start = 0; start + q <= run.length; start++) {
        const left = start;
        const right = run.length - start - q;
        const block = run.slice(start, start + q);
        const blockMiddle = (block[0]!.number + block[block.length - 1]!.number) / 2;
        blocks.push({ seats: block, strands: left === 1 || right === 1, rank: row.rank, centre: Math.abs(blockMiddle - middle) });
      }
    }
  }
  blocks.sort(
    (a, b) => Number(a.strands) - Number(b.strands) || a.rank - b.rank || a.centre - b.centre || a.seats[0]!.number - b.seats[0]!.number,
  );
  const picks: Pick[] = blocks.slice(0, want).map((b) => ({ seatIds: b.seats.map((s) => s.seatId), split: false, strands: b.strands }));
  if (picks.length || !opts.allowSplit) return picks;

  // No adjacent block anywhere: take whole runs nearest the stage, the largest run of a row first.
  const taken: number[] = [];
  for (const row of rows) {
    const runs = freeRuns(row).sort((a, b) => b.length - a.length || a[0]!.number - b[0]!.number);
    for (const run of runs) {
      for (const s of run) {
        if (taken.length === q) break;
        taken.push(s.seatId);
      }
    }
    if (taken.length === q) break;
  }
  return taken.length === q ? [{ seatIds: taken, split: true, strands: false }] : [];
}
