import { SeatMap } from '../../server/realtime/seat-map';

describe('SeatMap', () => {
  it('keeps the highest version per seat, whatever order batches arrive in', () => {
    const map = new SeatMap();
    map.applyChanges({ eventId: 1, cursor: 12, seats: [{ id: 1, status: 'held', version: 3 }] });
    // A snapshot read before that change arrives late: it must not roll the seat back.
    map.applySnapshot({ eventId: 1, cursor: 10, seats: [{ id: 1, status: 'available', version: 2 }, { id: 2, status: 'available', version: 1 }] });
    expect(map.seats.get(1)).toEqual({ id: 1, status: 'held', version: 3 });
    expect(map.cursor).toBe(12);
    const changed = map.applyChanges({ eventId: 1, cursor: 11, seats: [{ id: 1, status: 'available', version: 3 }, { id: 2, status: 'booked', version: 2 }] });
    expect(changed.map((s) => s.id)).toEqual([2]);
    expect(map.counts()).toEqual({ available: 0, held: 1, booked: 1, blocked: 0 });
  });
});
