import type { Logger } from '../shared/logger';
import type { SeatsService } from './service';

/** Lapsed holds released per transaction. */
const BATCH = 100;

/**
 * Runs the hold sweeper on this node every `intervalMs`. Every node runs one; the compare-and-set in
 * `sweepExpired` makes sure each lapsed hold is released (and broadcast) by exactly one of them.
 */
export function startSweeper(seats: SeatsService, intervalMs: number, logger: Logger): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = (async () => {
      try {
        // Keep going while full batches come back, so a backlog drains within one tick.
        while (!stopped && (await seats.sweepExpired(BATCH)) === BATCH);
      } catch (err) {
        logger.warn({ err }, 'hold sweep failed; will retry');
      } finally {
        running = undefined;
      }
    })();
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
