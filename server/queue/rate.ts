import type { WaitingRoomConfig } from './config-store';

/** How far back the admission rate is measured. */
const WINDOW_MS = 60_000;
/** Less history than this and the configured pace is the better guess. */
const MIN_SPAN_MS = 10_000;

/** (time, admissions so far) as this node's ticks saw them, over the last minute. */
export class RateSamples {
  private readonly samples: { at: number; admitted: number }[] = [];

  add(at: number, admitted: number): void {
    this.samples.push({ at, admitted });
    while (this.samples.length > 2 && this.samples[0]!.at < at - WINDOW_MS) this.samples.shift();
  }

  /** Admissions per minute over the samples, or undefined with too little history. */
  perMinute(): number | undefined {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.at - first.at < MIN_SPAN_MS) return undefined;
    return ((last.admitted - first.admitted) / (last.at - first.at)) * 60_000;
  }
}

/**
 * Admissions per minute to base a wait estimate on: measured over the last minute (every node's admissions, as the
 * store counts them), else what the configuration allows (the per-minute pace, or a full turnover of active
 * buyers per shopping window, whichever is slower).
 */
export function estimateRate(samples: RateSamples | undefined, config: WaitingRoomConfig): number {
  const measured = samples?.perMinute();
  if (measured !== undefined && measured > 0) return Math.round(measured * 10) / 10;
  const byActive = config.maxActive === null ? Infinity : (config.maxActive * 60) / config.windowSeconds;
  const configured = Math.min(config.admitPerMinute ?? Infinity, byActive);
  return Number.isFinite(configured) ? Math.round(configured * 10) / 10 : 0;
}
