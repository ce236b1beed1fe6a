/**
 * The retry schedule of a webhook delivery: exponential backoff from 10 s, doubling, capped at one hour, each
 * delay jittered to between half and all of itself (so receivers coming back up are not hit by every node and
 * every delivery at the same instant), for one day; a delivery that would next be tried later than a day after
 * it started is marked failed instead.
 */
export const RETRY_BASE_MS = 10_000;
export const RETRY_CAP_MS = 3_600_000;
export const RETRY_WINDOW_MS = 24 * 3_600_000;

/** The delay before the next try after `failures` failed attempts (1 = the first failed), jittered by `random()`. */
export function retryDelayMs(failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** When to try again after a failed attempt, or null when the day of retries (from `retryFrom`) is over. */
export function nextAttemptAt(retryFrom: number, now: number, failures: number, random?: () => number): number | null {
  const at = now + retryDelayMs(failures, random);
  return at > retryFrom + RETRY_WINDOW_MS ? null : at;
}
