import { compareRowLabels, pickBest, type Candidate } from '../../server/seats/best-available';

/** Builds a section from strings like "..x.." ('.' free, 'x' taken), one string per row A, B, C... */
function section(rows: string[], opts: { sectionId?: number; order?: number; idBase?: number } = {}): Candidate[] {
  const out: Candidate[] = [];
  rows.forEach((pattern, r) => {
    [...pattern].forEach((ch, i) => {
      out.push({
        seatId: (opts.idBase ?? 0) + r * 100 + i + 1,
        sectionId: opts.sectionId ?? 1,
        sectionOrder: opts.order ?? 0,
        row: String.fromCharCode(65 + r),
        number: i + 1,
        free: ch === '.',
      });
    });
  });
  return out;
}

const numbersOf = (ids: number[]) => ids.map((id) => id % 100);
const rowOf = (ids: number[]) => Math.floor(ids[0]! / 100);

describe('pickBest', () => {
  it('takes a block in the row nearest the stage, centred', () => {
    const [best] = pickBest(section(['..........', '..........']), { quantity: 2 });
    expect(best!.split).toBe(false);
    expect(rowOf(best!.seatIds)).toBe(0);
    expect(numbersOf(best!.seatIds)).toEqual([5, 6]);
  });

  it('skips a row without room for the whole block', () => {
    const [best] = pickBest(section(['x.x.x.x.x.', '....xxxxxx']), { quantity: 3 });
    expect(rowOf(best!.seatIds)).toBe(1);
    // Both blocks in the run 1-4 strand a seat; the one nearer the middle of the row wins.
    expect(numbersOf(best!.seatIds)).toEqual([2, 3, 4]);
  });

  it('never strands a single seat when it can be avoided', () => {
    // Row A has a run of 3 free seats: taking 2 would strand one. Row B has exactly 2 free together.
    const [best] = pickBest(section(['xxx...xxxx', 'xxxx..xxxx']), { quantity: 2 });
    expect(rowOf(best!.seatIds)).toBe(1);
    expect(numbersOf(best!.seatIds)).toEqual([5, 6]);
    expect(best!.strands).toBe(false);
  });

  it('inside one run, picks the end that strands nobody', () => {
    // Run of 5 free seats (3..7); a block of 3 at 4-6 would strand 3 and 7; 3-5 strands nobody but leaves 6-7.
    const [best] = pickBest(section(['xx.....xxx']), { quantity: 3 });
    expect(best!.strands).toBe(false);
    expect([[3, 4, 5], [5, 6, 7]]).toContainEqual(numbersOf(best!.seatIds));
  });

  it('strands a seat only when nothing else fits', () => {
    const [best] = pickBest(section(['xxx...xxxx']), { quantity: 2 });
    expect(best!.strands).toBe(true);
    expect(numbersOf(best!.seatIds)).toHaveLength(2);
  });

  it('orders rows by section sort order before row index', () => {
    const back = section(['..........'], { sectionId: 7, order: 1, idBase: 0 });
    const front = section(['xxxx..xxxx', '..........'], { sectionId: 9, order: 0, idBase: 1000 });
    const [best] = pickBest([...back, ...front], { quantity: 2 });
    expect(best!.seatIds.every((id) => id > 1000 && id < 1100)).toBe(true);
  });

  it('treats seats with non-consecutive numbers as not adjacent', () => {
    const seats: Candidate[] = [1, 2, 4, 5].map((n) => ({ seatId: n, sectionId: 1, sectionOrder: 0, row: 'A', number: n, free: true }));
    expect(pickBest(seats, { quantity: 3 })).toEqual([]);
    const [split] = pickBest(seats, { quantity: 3, allowSplit: true });
    expect(split!.split).toBe(true);
    expect(split!.seatIds).toHaveLength(3);
  });

  it('splits only when allowed, nearest the stage first', () => {
    const seats = section(['x.x.x.x.x.', '.x.x.x.x.x']);
    expect(pickBest(seats, { quantity: 2 })).toEqual([]);
    const [split] = pickBest(seats, { quantity: 2, allowSplit: true });
    expect(split!.split).toBe(true);
    expect(split!.seatIds.every((id) => id < 100)).toBe(true);
  });

  it('returns nothing when there are not enough free seats', () => {
    expect(pickBest(section(['x..x']), { quantity: 3, allowSplit: true })).toEqual([]);
    expect(pickBest(section(['....']), { quantity: 0 })).toEqual([]);
  });

  it('ranks alternatives, best first, all distinct', () => {
    const picks = pickBest(section(['....', '....']), { quantity: 2, alternatives: 5 });
    expect(picks.length).toBe(5);
    expect(rowOf(picks[0]!.seatIds)).toBe(0);
    const keys = picks.map((p) => p.seatIds.join(','));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('orders row labels A..Z before AA and numerically for numbers', () => {
    expect(['AA', 'B', 'A', 'Z'].sort(compareRowLabels)).toEqual(['A', 'B', 'Z', 'AA']);
    expect(['10', '9', '1'].sort(compareRowLabels)).toEqual(['1', '9', '10']);
  });
});
