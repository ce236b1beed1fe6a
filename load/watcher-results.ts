/** What watcher client jobs report (load/client-worker.ts), and how the generator merges it across processes. */
import { Latency } from './stats';

/** What a watchers job reports when it finishes. */
export interface WatchersDone {
  delivery: string;
  batches: number;
  unmatched: number;
  failures: number;
  /** Seat versions (`seat:version`) this process received; absent from older workers. */
  versions?: string[];
  /** The same, split by the node the receiving watcher was connected to (index in the job's urls). */
  versionsByNode?: string[][];
  /** This process's connected watchers on each node. */
  watchersByNode?: number[];
  /** `delivery` split by the node each watcher was connected to (index in the job's urls). */
  deliveryByNode?: string[];
}

/** Every process's deliveries, one histogram per node the watchers were connected to. */
export function mergeDeliveryByNode(parts: WatchersDone[]): Latency[] {
  const nodes: Latency[] = [];
  for (const p of parts) (p.deliveryByNode ?? []).forEach((h, i) => (nodes[i] ??= new Latency()).merge(h));
  return nodes;
}

/**
 * Deliveries there would be if every watcher got every seat version its own node sent: for each node, the versions
 * some watcher of that node received times that node's watchers. Each node merges changes over its own windows, so
 * a version one node sent may be merged away on another, and the versions of all nodes together would overcount.
 */
export function expectedDeliveries(parts: WatchersDone[]): number {
  const versions: Set<string>[] = [];
  const watchers: number[] = [];
  for (const p of parts) {
    p.versionsByNode?.forEach((vs, i) => vs.forEach((v) => (versions[i] ??= new Set()).add(v)));
    p.watchersByNode?.forEach((n, i) => (watchers[i] = (watchers[i] ?? 0) + n));
  }
  return versions.reduce((sum, vs, i) => sum + vs.size * (watchers[i] ?? 0), 0);
}

/** One histogram of every process's deliveries. */
export function mergeDelivery(parts: WatchersDone[]): Latency {
  const h = new Latency();
  for (const p of parts) h.merge(p.delivery);
  return h;
}
