/**
 * What 3,333 simulated watchers' seat maps cost one client process (the share of 10,000 fan-out watchers over 3
 * processes): heap after building them from a 1,000-seat snapshot, and one full garbage collection of that heap.
 * Run: `node --expose-gc --import tsx load/experiments/watcher-maps-heap.ts [watchers] [seats] [--shared]`;
 * `--shared` gives every map the same seat objects (one decoded snapshot shared) instead of its own.
 */
import { SeatMap } from '../../server/realtime/seat-map';
import type { SeatsSnapshot } from '../../server/contracts';

const watchers = Number(process.argv[2] ?? 3333);
const seatCount = Number(process.argv[3] ?? 1000);
const shared = process.argv.includes('--shared');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const seats = Array.from({ length: seatCount }, (_, i) => ({ id: i + 1, status: 'available' as const, version: 1 }));
gc();
const before = process.memoryUsage().heapUsed;
const maps: SeatMap[] = [];
// Each watcher decodes its own snapshot, so each map holds its own seat objects (unless --shared).
for (let w = 0; w < watchers; w++) {
  const map = new SeatMap();
  map.applySnapshot({ eventId: 1, cursor: 1, seats: shared ? seats : seats.map((s) => ({ ...s })) } satisfies SeatsSnapshot);
  maps.push(map);
}
gc();
const after = process.memoryUsage().heapUsed;
const t = performance.now();
gc();
console.log({ watchers: maps.length, seats: seatCount, shared, heapMB: Math.round((after - before) / 1e6), fullGcMs: Math.round(performance.now() - t) });
