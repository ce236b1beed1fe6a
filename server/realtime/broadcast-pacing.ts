import { performance } from 'node:perf_hooks';

/**
 * How a busy node spaces an event's broadcasts (see BroadcastPacer). `maxMs`: the widest window; at `batchMs` or
 * below every window is `batchMs`. `clock`: milliseconds, monotonic. `utilization`: the share of the recent time
 * the node's event loop was busy, 0-1 (default: Node's event loop utilization, read at most every 100 ms). Tests
 * pass their own.
 */
export interface BroadcastPacing {
  maxMs: number;
  clock?: () => number;
  utilization?: () => number;
}

/**
 * On a busy node a flush's emits may take a twentieth of its time at most: the event's next window stays open
 * until 19 times the last flush's emit time has passed since it ended (capped at `maxMs`). A tenth (9 times) did
 * not move the flash sale: batches commit ~8 times a second per node in the rush, about that spacing already.
 */
export const BUSY_SPACING = 19;
/**
 * Busy: the event loop was busy at least this share of the recent time. Below it every window is `batchMs`. In the
 * flash sale's rush it reads 0.96-0.99; a fan-out of 10 holds a second to 2,000 watchers reads 0.2-0.3, crossing
 * 0.5 only in short spikes. Marks of 0.75 and 0.9 showed no gain in the sale (load/README.md).
 */
const BUSY_UTILIZATION = 0.5;

/**
 * Node's event loop utilization since its last reading, read at most every 100 ms (so a call costs nothing). It
 * is read only when asked: after a quiet spell the first reading covers the whole spell, and says "not busy".
 */
function recentUtilization(): () => number {
  let mark = performance.eventLoopUtilization();
  let at = performance.now();
  let last = 0;
  return () => {
    const now = performance.now();
    if (now - at >= 100) {
      last = performance.eventLoopUtilization(mark).utilization;
      mark = performance.eventLoopUtilization();
      at = now;
    }
    return last;
  };
}

/**
 * When an event's seat changes may leave (Broadcaster's window), spaced on a busy node by what its emits cost.
 * The window is `batchMs`; while the node's event loop is busy (BUSY_UTILIZATION), a flush's emits are timed and
 * the event's next window stays open until BUSY_SPACING times their cost has passed, at most `maxMs`. Why and what
 * it measured: Broadcaster, and load/README.md (issue 17, "broadcasts paced by their cost").
 */
export class BroadcastPacer {
  /** Per event: the instant (pacing clock) before which its next flush should not leave. */
  private readonly nextFlushAt = new Map<number, number>();
  private readonly clock: () => number;
  private readonly utilization: () => number;
  private readonly maxMs: number;

  constructor(
    private readonly batchMs: number,
    pacing: BroadcastPacing,
  ) {
    this.clock = pacing.clock ?? (() => performance.now());
    this.maxMs = Math.max(batchMs, pacing.maxMs);
    this.utilization = pacing.utilization ?? (this.maxMs > batchMs ? recentUtilization() : () => 0);
  }

  /** How long a change that opens a window waits: `batchMs`, or longer while the last flush's spacing runs. */
  windowMs(eventId: number): number {
    const next = this.nextFlushAt.get(eventId);
    if (next === undefined) return this.batchMs;
    const wait = next - this.clock();
    if (wait <= this.batchMs) {
      this.nextFlushAt.delete(eventId); // the spell is over: nothing to remember
      return this.batchMs;
    }
    return Math.min(this.maxMs, Math.ceil(wait));
  }

  /** Runs `emit`; on a busy node, spaces the event's next flush by what the emit cost (BUSY_SPACING). */
  timed(eventId: number, emit: () => void): void {
    if (this.maxMs <= this.batchMs || this.utilization() < BUSY_UTILIZATION) return emit();
    const start = this.clock();
    try {
      emit();
    } finally {
      const end = this.clock();
      const spacing = BUSY_SPACING * (end - start);
      // The plain and the compact emit of one flush both count: the later end, plus both costs (never more than
      // `maxMs` ahead, so a long rush leaves nothing to wait out after it).
      this.nextFlushAt.set(eventId, Math.min(end + this.maxMs, Math.max(end, this.nextFlushAt.get(eventId) ?? 0) + spacing));
    }
  }
}
