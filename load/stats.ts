import * as hdr from 'hdr-histogram-js';

/** Latency summary in milliseconds, from an HDR histogram recorded in microseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * An HDR histogram of durations. Records microseconds (1 us to 10 min, 3 significant digits) so sub-millisecond
 * baselines and multi-second tails share one scale; reports milliseconds.
 */
export class Latency {
  private readonly h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });

  /** Compact form to send between threads. */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.h);
  }

  /** Adds another histogram's values (e.g. decoded from a client thread). */
  merge(encoded: string): void {
    const other = hdr.decodeFromCompressedBase64(encoded);
    this.h.add(other);
    other.destroy();
  }

  recordMs(ms: number): void {
    this.h.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  get count(): number {
    return this.h.totalCount;
  }

  summary(): LatencySummary {
    const ms = (us: number) => Math.round(us) / 1000;
    if (this.h.totalCount === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
    return {
      count: this.h.totalCount,
      p50: ms(this.h.getValueAtPercentile(50)),
      p95: ms(this.h.getValueAtPercentile(95)),
      p99: ms(this.h.getValueAtPercentile(99)),
      max: ms(this.h.maxValue),
      mean: ms(this.h.mean),
    };
  }
}

/** Monotonic milliseconds (sub-ms resolution). */
export const now = (): number => performance.now();

/** Wall-clock milliseconds with sub-ms resolution, comparable across processes on one machine. */
export const wallNow = (): number => performance.timeOrigin + performance.now();

/** A live one-line progress display on stderr (rewritten with \r), silent when stderr is not a TTY-ish sink. */
export class Progress {
  private timer?: NodeJS.Timeout;
  private readonly started = now();

  constructor(
    private readonly render: (elapsedS: number) => string,
    private readonly enabled = true,
  ) {}

  start(intervalMs = 1000): this {
    if (!this.enabled) return this;
    this.timer = setInterval(() => this.draw(), intervalMs);
    this.timer.unref();
    return this;
  }

  draw(): void {
    if (!this.enabled) return;
    const line = this.render((now() - this.started) / 1000);
    process.stderr.write(`\r${line.padEnd(118).slice(0, 160)}`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.enabled) {
      this.draw();
      process.stderr.write('\n');
    }
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let gcFn: (() => void) | undefined;

/** Forces a full GC (enabling the V8 flag at run time if node was not started with --expose-gc). */
export function gc(): void {
  if (!gcFn) {
    gcFn = (globalThis as { gc?: () => void }).gc;
    if (!gcFn) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('node:v8').setFlagsFromString('--expose-gc');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      gcFn = require('node:vm').runInNewContext('gc') as () => void;
    }
  }
  gcFn();
  gcFn();
}

/** Runs `fn` for each item with at most `limit` in flight. */
export async function pool<T>(items: T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
}

export const round = (v: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};
