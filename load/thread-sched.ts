/**
 * Time on a core and time waiting for one, by thread, from Linux's per-task scheduler statistics
 * (`/proc/<pid>/task/<tid>/schedstat`: nanoseconds run, nanoseconds runnable but waiting on a run queue, slices).
 *
 * Why: "machine cores busy 1.9 of 2" says the machine was full, not by how much. A thread that waits for a core
 * is a thread whose acks wait, and busy cores cannot show it: a machine asked for 3 cores' work and one asked for
 * exactly 2 both read "2 of 2". The sum of running and waiting over the run's threads is the CPU the run wanted,
 * and the nodes' own wait is the part of their answer time that is the machine's queue, not their work.
 *
 * Read in the buyers' thread every 250 ms (load/machine-probe.ts): a few dozen small reads, where scanning every
 * task on the machine would cost the measured thread itself.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Nanoseconds a thread (or a group of them) spent on a core and runnable but waiting for one. */
export interface SchedTimes {
  runNs: number;
  waitNs: number;
}

/**
 * The groups read: the thread that runs the in-process nodes (the generator's main thread; absent when the nodes
 * run elsewhere), the buyers' thread, the generator's other threads (V8's garbage collection and compiler helpers,
 * libuv), and the database and Redis servers when they run on this machine.
 */
export interface SchedGroups {
  nodes?: SchedTimes;
  buyers?: SchedTimes;
  helpers?: SchedTimes;
  database?: SchedTimes;
  redis?: SchedTimes;
}

export type SchedGroup = keyof SchedGroups;
export const SCHED_GROUPS: readonly SchedGroup[] = ['nodes', 'buyers', 'helpers', 'database', 'redis'];

/** Parses a schedstat line; undefined when it is not one. */
export function parseSchedstat(text: string): SchedTimes | undefined {
  const [run, wait] = text.trim().split(/\s+/).map(Number);
  if (run === undefined || wait === undefined || !Number.isFinite(run) || !Number.isFinite(wait)) return undefined;
  return { runNs: run, waitNs: wait };
}

/** Each group's change between two readings (a group missing from either is left out). */
export function schedDelta(a: SchedGroups, b: SchedGroups): SchedGroups {
  const out: SchedGroups = {};
  for (const g of SCHED_GROUPS) {
    const x = a[g];
    const y = b[g];
    if (x && y) out[g] = { runNs: Math.max(0, y.runNs - x.runNs), waitNs: Math.max(0, y.waitNs - x.waitNs) };
  }
  return out;
}

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // the task ended, or not Linux
  }
};

const tasks = (pid: number): number[] => {
  try {
    return readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    return [];
  }
};

/** Sums the schedstat of every thread of `pid` that `keep` accepts; undefined when none could be read. */
function sumTasks(pid: number, keep: (tid: number) => boolean = () => true): SchedTimes | undefined {
  let sum: SchedTimes | undefined;
  for (const tid of tasks(pid)) {
    if (!keep(tid)) continue;
    const t = parseSchedstat(read(`/proc/${pid}/task/${tid}/schedstat`) ?? '');
    if (!t) continue;
    sum = { runNs: (sum?.runNs ?? 0) + t.runNs, waitNs: (sum?.waitNs ?? 0) + t.waitNs };
  }
  return sum;
}

/** Pids of this machine's processes whose command name is one of `names` (MariaDB's, Redis's). */
export function pidsNamed(names: readonly string[]): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  return entries.filter((pid) => names.includes((read(`/proc/${pid}/comm`) ?? '').trim())).map(Number);
}

/** The calling thread's own task id (Linux: /proc/thread-self points at /proc/<pid>/task/<tid>). */
function ownTid(): number | undefined {
  const stat = read('/proc/thread-self/stat');
  const tid = stat === undefined ? NaN : Number(stat.slice(0, stat.indexOf(' ')));
  return Number.isInteger(tid) ? tid : undefined;
}

/**
 * Reads the groups of this process and of the database and Redis found on this machine when made. Call it from the
 * buyers' thread: that thread is "buyers"; the process's main thread is "nodes" when `nodesOnMainThread`, and
 * counted with the helpers otherwise.
 */
export function schedReader(nodesOnMainThread: boolean): (() => SchedGroups) | undefined {
  const self = ownTid();
  if (self === undefined) return undefined;
  const pid = process.pid;
  const database = pidsNamed(['mariadbd', 'mysqld']);
  const redis = pidsNamed(['redis-server']);
  const sumOf = (pids: number[]): SchedTimes | undefined =>
    pids.map((p) => sumTasks(p)).reduce<SchedTimes | undefined>((a, t) => (t ? { runNs: (a?.runNs ?? 0) + t.runNs, waitNs: (a?.waitNs ?? 0) + t.waitNs } : a), undefined);
  return () => ({
    nodes: nodesOnMainThread ? parseSchedstat(read(`/proc/${pid}/task/${pid}/schedstat`) ?? '') : undefined,
    buyers: parseSchedstat(read('/proc/thread-self/schedstat') ?? ''),
    helpers: sumTasks(pid, (tid) => tid !== self && (!nodesOnMainThread || tid !== pid)),
    database: sumOf(database),
    redis: sumOf(redis),
  });
}
