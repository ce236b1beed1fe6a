import { decodeChanges, decodeSnapshot, encodeChanges, encodeSnapshot, LayoutMismatchError, layoutOrder } from '../../server/realtime/compact';
import type { SeatState, SeatsSnapshot } from '../../server/contracts';
import { SeatMap } from '../../server/realtime/seat-map';

/** A seeded generator, so a failing case can be replayed (the seed is in the test name). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

const STATUSES: SeatState['status'][] = ['available', 'held', 'booked', 'blocked'];

function randomSnapshot(seed: number, count: number, firstId = 1000): { ids: number[]; snap: SeatsSnapshot } {
  const r = rng(seed);
  // Unique ids with gaps, as a venue's seat ids are after other venues were created in between.
  let id = firstId;
  const ids = Array.from({ length: count }, () => (id += 1 + Math.floor(r() * 3)));
  const seats = ids.map((seatId): SeatState => {
    const id = seatId;
    const status = STATUSES[Math.floor(r() * 4)]!;
    // Mostly small versions, some beyond one and two varint bytes.
    const version = r() < 0.9 ? 1 + Math.floor(r() * 100) : Math.floor(r() * 3_000_000);
    return status === 'held' ? { id, status, version, expiresAt: new Date(1_800_000_000_000 + Math.floor(r() * 1e6)).toISOString() } : { id, status, version };
  });
  return { ids, snap: { eventId: 7, cursor: 42, seats } };
}

describe('compact seat state codec', () => {
  it.each([1, 2, 3])('When a snapshot is encoded and decoded (seed %i), then every seat comes back as it was', (seed) => {
    const { ids, snap } = randomSnapshot(seed, 500);
    const order = layoutOrder('v1', ids);
    const compact = encodeSnapshot(snap, order);
    expect(compact.count).toBe(500);
    expect(compact.status).toHaveLength(500);
    // Socket.IO hands Node clients a Buffer and browsers an ArrayBuffer: both decode.
    const asBuffer = (f: unknown) => Buffer.from(f as Uint8Array);
    const asArrayBuffer = (f: unknown) => (f as Uint8Array).slice().buffer;
    const viaBuffer = decodeSnapshot({ ...compact, status: asBuffer(compact.status), versions: asBuffer(compact.versions), expiresAt: asBuffer(compact.expiresAt) }, order);
    const viaArrayBuffer = decodeSnapshot({ ...compact, status: asArrayBuffer(compact.status), versions: asArrayBuffer(compact.versions), expiresAt: asArrayBuffer(compact.expiresAt) }, order);
    expect(viaBuffer).toEqual(snap);
    expect(viaArrayBuffer).toEqual(snap);
  });

  it('When a change batch is encoded out of layout order, then it decodes to the same seats (in layout order)', () => {
    const { ids, snap } = randomSnapshot(9, 300);
    const order = layoutOrder('v1', ids);
    const picked = [snap.seats[250]!, snap.seats[3]!, snap.seats[120]!, snap.seats[0]!];
    const decoded = decodeChanges(encodeChanges({ eventId: 7, cursor: 99, seats: picked }, order), order);
    expect(decoded.cursor).toBe(99);
    expect(decoded.seats).toEqual([...picked].sort((a, b) => ids.indexOf(a.id) - ids.indexOf(b.id)));
  });

  it('When a seat of the layout has no state, then it is marked absent and left out on decode', () => {
    const order = layoutOrder('v1', [1, 2, 3]);
    const compact = encodeSnapshot({ eventId: 1, cursor: 0, seats: [{ id: 2, status: 'booked', version: 4 }] }, order);
    expect([...(compact.status as Uint8Array)]).toEqual([255, 2, 255]);
    expect(decodeSnapshot(compact, order).seats).toEqual([{ id: 2, status: 'booked', version: 4 }]);
  });

  it('When a payload names another layout version, then decoding refuses it with LayoutMismatchError', () => {
    const compact = encodeSnapshot({ eventId: 1, cursor: 0, seats: [{ id: 1, status: 'available', version: 1 }] }, layoutOrder('old', [1]));
    expect(() => decodeSnapshot(compact, layoutOrder('new', [1]))).toThrow(LayoutMismatchError);
    expect(() => new SeatMap().applyCompactSnapshot(compact)).toThrow(LayoutMismatchError);
  });

  it('When a SeatMap gets both forms in any order, then it keeps the highest version per seat', () => {
    const order = layoutOrder('v1', [10, 11]);
    const map = new SeatMap();
    map.useLayout('v1', [10, 11]);
    map.applyCompactChanges(encodeChanges({ eventId: 1, cursor: 12, seats: [{ id: 10, status: 'held', version: 3, expiresAt: '2030-01-01T00:00:00.000Z' }] }, order));
    // A snapshot read before that change arrives late: it must not roll the seat back.
    map.applyCompactSnapshot(encodeSnapshot({ eventId: 1, cursor: 10, seats: [{ id: 10, status: 'available', version: 2 }, { id: 11, status: 'available', version: 1 }] }, order));
    expect(map.seats.get(10)).toEqual({ id: 10, status: 'held', version: 3, expiresAt: '2030-01-01T00:00:00.000Z' });
    const changed = map.applyChanges({ eventId: 1, cursor: 13, seats: [{ id: 11, status: 'booked', version: 2 }] });
    expect(changed.map((s) => s.id)).toEqual([11]);
    expect(map.cursor).toBe(13);
    expect(map.counts()).toEqual({ available: 0, held: 1, booked: 1, blocked: 0 });
  });

  it('When a 20,000-seat snapshot is encoded, then it is far smaller than JSON (figures printed for docs/DESIGN.md)', () => {
    // A realistic mid-sale event: 60% available, 25% booked, 10% held, 5% blocked; versions mostly below 128.
    const r = rng(20000);
    const ids = Array.from({ length: 20000 }, (_, i) => 100_000 + i);
    const seats = ids.map((id): SeatState => {
      const x = r();
      const status: SeatState['status'] = x < 0.6 ? 'available' : x < 0.85 ? 'booked' : x < 0.95 ? 'held' : 'blocked';
      const version = 1 + Math.floor(r() * (r() < 0.99 ? 20 : 400));
      return status === 'held' ? { id, status, version, expiresAt: new Date(1_800_000_000_000 + Math.floor(r() * 600_000)).toISOString() } : { id, status, version };
    });
    const snap: SeatsSnapshot = { eventId: 1, cursor: 123456, seats };
    const order = layoutOrder('abcdefghijklmnopqrstuv', ids);
    const t0 = performance.now();
    const compact = encodeSnapshot(snap, order);
    const t1 = performance.now();
    const decoded = decodeSnapshot(compact, order);
    const t2 = performance.now();
    const jsonBytes = Buffer.byteLength(JSON.stringify(snap));
    const jsonT0 = performance.now();
    JSON.parse(JSON.stringify(snap));
    const jsonT1 = performance.now();
    const binary = (compact.status as Uint8Array).length + (compact.versions as Uint8Array).length + (compact.expiresAt as Uint8Array).length;
    const expiries = (compact.expiresAt as Uint8Array).length;
    // The JSON part as Socket.IO sends it: binary fields become placeholders, each its own frame.
    const rest = Buffer.byteLength(JSON.stringify({ ...compact, status: { _placeholder: true, num: 0 }, versions: { _placeholder: true, num: 1 }, expiresAt: { _placeholder: true, num: 2 } }));
    console.log(
      `20,000 seats: JSON ${jsonBytes} B (stringify+parse ${(jsonT1 - jsonT0).toFixed(1)} ms); compact ${binary + rest} B ` +
        `(status ${(compact.status as Uint8Array).length} + versions ${(compact.versions as Uint8Array).length} + expiries ${expiries} for ${seats.filter((s) => s.status === 'held').length} holds + JSON part ${rest}); ` +
        `encode ${(t1 - t0).toFixed(1)} ms, decode ${(t2 - t1).toFixed(1)} ms`,
    );
    expect(decoded).toEqual(snap);
    // Size is a property of the format, not of the machine: 1 byte of status + ~1 byte of version per seat.
    expect(binary + rest).toBeLessThan(48 * 1024);
  });
});
