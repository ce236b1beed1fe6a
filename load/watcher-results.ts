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
  /** `delivery` split by the node each watcher was connected to (index in the job's urls). */
  deliveryByNode?: string[];
}

/** Every process's deliveries, one histogram per node the watchers were connected to. */
export function mergeDeliveryByNode(parts: WatchersDone[]): Latency[] {
  const nodes: Latency[] = [];
  for (const p of parts) (p.deliveryByNode ?? []).forEach((h, i) => (nodes[i] ??= new Latency()).merge(h));
  return nodes;
}

/** One histogram of every process's deliveries. */
export function mergeDelivery(parts: WatchersDone[]): Latency {
  const h = new Latency();
  for (const p of parts) h.merge(p.delivery);
  return h;
}
