import { FreeSeats, SeatChooser, SeatView } from '../../load/clients';
import type { SeatInfo } from '../../load/harness';
import { SeatMap } from '../../packages/client/src';

/** The generator's buyers choose from the seats their map shows free, kept as changes arrive (load/clients.ts). */
describe('load generator: choosing seats from the free set', () => {
  const seats: SeatInfo[] = Array.from({ length: 100 }, (_, i) => ({ id: i + 1, row: Math.floor(i / 10), offCentre: Math.abs((i % 10) - 4.5) }) as SeatInfo);
  const snapshot = (held: number[]) => ({ eventId: 1, cursor: 1, seats: seats.map((s) => ({ id: s.id, status: held.includes(s.id) ? ('held' as const) : ('available' as const), version: 1 })) });

  it('When changes arrive, then the free set follows the map, older versions ignored', () => {
    const map = new SeatMap();
    const free = new FreeSeats();
    map.applySnapshot(snapshot([1, 2]));
    free.reset(map);
    expect(free.size).toBe(98);
    expect(free.has(1)).toBe(false);

    free.update(map.applyChanges({ eventId: 1, cursor: 2, seats: [{ id: 1, status: 'available', version: 2 }, { id: 3, status: 'booked', version: 2 }] }));
    expect(free.has(1)).toBe(true);
    expect(free.has(3)).toBe(false);
    // A stale version of seat 1 (held at version 1) changes nothing in the map, so nothing in the set.
    free.update(map.applyChanges({ eventId: 1, cursor: 3, seats: [{ id: 1, status: 'held', version: 1 }] }));
    expect(free.has(1)).toBe(true);
    expect(free.size).toBe(98);
  });

  it("When every buyer of a node hands its batches to the node's view, then each batch is applied once and the free set follows", () => {
    const view = new SeatView();
    view.applySnapshot(snapshot([1, 2]));
    expect(view.free.size).toBe(98);
    const apply = jest.spyOn(view.map, 'applyChanges');
    // A compact batch decoded once per thread: every socket's listener gets the same object.
    const batch = { eventId: 1, cursor: 2, seats: [{ id: 1, status: 'available' as const, version: 2 }, { id: 3, status: 'booked' as const, version: 2 }] };
    for (let buyer = 0; buyer < 3; buyer++) view.applyChanges(batch);
    expect(apply).toHaveBeenCalledTimes(1);
    expect(view.free.has(1)).toBe(true);
    expect(view.free.has(3)).toBe(false);
    // A JSON batch is an object per socket: applied again, it changes nothing.
    view.applyChanges(JSON.parse(JSON.stringify(batch)));
    expect(apply).toHaveBeenCalledTimes(2);
    expect(view.free.size).toBe(98);
    // A second buyer's snapshot, older than what the view knows, leaves it as it is.
    view.applySnapshot(snapshot([1, 2]));
    expect(view.free.has(1)).toBe(true);
    expect(view.free.has(3)).toBe(false);
  });

  it.each(['random', 'hotspot', 'best'] as const)('When choosing with %s, then only free seats outside the avoid set come back, and none when none is free', (strategy) => {
    const chooser = new SeatChooser(seats, strategy);
    const free = new Set([5, 17, 42, 43, 99]);
    for (let i = 0; i < 200; i++) {
      const picked = chooser.choose(free, 2, new Set([42]));
      // hotspot may take the one hot seat left (seat 5) alone, as the generator always has.
      expect(picked.length).toBeGreaterThanOrEqual(strategy === 'hotspot' ? 1 : 2);
      expect(picked.length).toBeLessThanOrEqual(2);
      expect(new Set(picked).size).toBe(picked.length);
      for (const id of picked) expect([5, 17, 43, 99]).toContain(id);
    }
    expect(chooser.choose(new Set(), 2, new Set())).toEqual([]);
    expect(chooser.choose(new Set([42]), 2, new Set([42]))).toEqual([]);
  });

  it('When the hot spot has free seats, then most hotspot choices land in it', () => {
    const chooser = new SeatChooser(seats, 'hotspot');
    // Hot spot: the 5 best-ranked seats (front row, centre): ids 5, 6, 4, 7, 3.
    const free = new Set(seats.map((s) => s.id));
    let inHot = 0;
    for (let i = 0; i < 1000; i++) if (chooser.choose(free, 1, new Set()).every((id) => [3, 4, 5, 6, 7].includes(id))) inHot++;
    expect(inHot).toBeGreaterThan(700);
    expect(inHot).toBeLessThan(900);
  });
});
