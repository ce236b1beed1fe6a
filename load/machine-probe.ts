/**
 * What the machine and the buyers' own thread were doing during the sale, so a latency figure that misses its target
 * says whether the server or the machine ran out: the number of the machine's cores that were busy (Linux
 * `/proc/stat`; every process counts: the nodes, the clients, MariaDB and Redis alike) and the share of its time
 * the buyers' thread was busy (its event-loop utilisation: a thread busy all the time reads its acks late), and,
 * where given a reader, how long the run's threads ran and waited for a core (load/thread-sched.ts).
 * Runs in the buyers' thread, on the clock of their hold acks.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { SaleTimeline } from './sale-timeline';
import { now } from './stats';
import { schedDelta, schedReader, type SchedGroups } from './thread-sched';

/** Jiffies from the first line of /proc/stat: all of them, and the idle ones (idle + iowait). */
export interface CpuTimes {
  total: number;
  idle: number;
}

/** Parses the aggregate `cpu` line of /proc/stat; undefined when the text has none. */
export function parseProcStat(text: string): CpuTimes | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 5 || f.some((x) => !Number.isFinite(x))) return undefined;
  // user nice system idle iowait irq softirq steal (guest time is already inside user and nice)
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { total, idle: f[3]! + f[4]! };
}

/** Busy share of the machine between two readings, 0..1 (0 when no time passed). */
export function busyShare(a: CpuTimes, b: CpuTimes): number {
  const total = b.total - a.total;
  return total > 0 ? Math.min(1, Math.max(0, 1 - (b.idle - a.idle) / total)) : 0;
}

/** The machine's cores busy between two readings on average; undefined when either reading is missing. */
export function busyCores(a: CpuTimes | undefined, b: CpuTimes | undefined, cores = availableParallelism()): number | undefined {
  return a && b ? busyShare(a, b) * cores : undefined;
}

/** This machine's CPU times now; undefined where there is no /proc/stat. */
export function readProcStat(): CpuTimes | undefined {
  try {
    return parseProcStat(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined; // not Linux: the CPU figures are left out
  }
}

/**
 * One reading over [fromMs, toMs] of the probe's clock: the machine's busy cores (undefined where /proc/stat is
 * not), the share of that time this thread was busy (0..1), and, where the probe reads threads
 * (load/thread-sched.ts), each group's nanoseconds on a core and waiting for one in that time.
 */
export type ProbeSink = (fromMs: number, toMs: number, busyCores: number | undefined, threadBusy: number, sched?: SchedGroups) => void;

/** How often the probe reads; a saturated thread reads later, and its reading then covers the whole stretch. */
const EVERY_MS = 250;

/** Samples until stopped: a timer every 250 ms and one small file read, cheap beside 2,000 buyers. */
export class MachineProbe {
  private timer: NodeJS.Timeout | undefined;
  readonly cores = availableParallelism();

  constructor(
    private readonly sink: ProbeSink,
    private readonly now: () => number,
    private readonly elu: (since?: EventLoopUtilization) => EventLoopUtilization = (since) => performance.eventLoopUtilization(since),
    private readonly cpu: () => CpuTimes | undefined = readProcStat,
    private readonly threads?: () => SchedGroups,
  ) {}

  start(): void {
    let at = this.now();
    let cpu = this.cpu();
    let elu = this.elu();
    let sched = this.threads?.();
    this.timer = setInterval(() => {
      const t = this.now();
      const nextCpu = this.cpu();
      const used = this.elu(elu);
      const nextSched = this.threads?.();
      this.sink(at, t, busyCores(cpu, nextCpu, this.cores), used.utilization, sched && nextSched && schedDelta(sched, nextSched));
      at = t;
      cpu = nextCpu;
      sched = nextSched;
      elu = this.elu();
    }, EVERY_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/**
 * Starts a probe into a sale's timeline, by second of the sale (from `firstHoldAt` on the clock of the buyers' acks;
 * readings before it are dropped): the machine's busy cores, this thread's busy share, and the run's threads' time
 * on and waiting for a core. `nodesOnMainThread`: this is a thread of the generator, whose main thread runs the nodes.
 */
export function probeSale(timeline: SaleTimeline, firstHoldAt: () => number | undefined, nodesOnMainThread: boolean): MachineProbe {
  const sink: ProbeSink = (from, to, busy, threadBusy, sched) => {
    const first = firstHoldAt();
    if (first !== undefined) timeline.recordLoad((from - first) / 1000, (to - first) / 1000, busy, threadBusy, probe.cores, sched);
  };
  const probe = new MachineProbe(sink, now, undefined, undefined, schedReader(nodesOnMainThread));
  probe.start();
  return probe;
}
