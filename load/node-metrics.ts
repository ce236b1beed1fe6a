/**
 * The nodes' own metrics over one phase of a run: group-commit batches and socket command latency, summed over
 * every node (in this process or a child). A node's histograms count from its start, and the phases of a run
 * (hot-seat's 8 and then 256 contenders) share the nodes, so a phase's figures are a reading at its end minus one
 * at its start.
 */
import type { MetricValues, ObservedNode } from './node-process';
import { round } from './stats';

/** One histogram's count, sum and cumulative bucket counts (by `le`), summed over the nodes. */
export interface HistogramTotals {
  count: number;
  sum: number;
  le: Map<string, number>;
}

/** What the nodes' metrics hold at one instant. */
export interface NodeReading {
  batchSize: HistogramTotals;
  batchDuration: HistogramTotals;
  /** Per socket command name. */
  commands: Map<string, HistogramTotals>;
}

const empty = (): HistogramTotals => ({ count: 0, sum: 0, le: new Map() });

function addValues(into: (labels: Record<string, unknown>) => HistogramTotals, m: MetricValues): void {
  for (const v of m.values) {
    const t = into(v.labels);
    if (v.metricName?.endsWith('_count')) t.count += v.value;
    else if (v.metricName?.endsWith('_sum')) t.sum += v.value;
    else if (v.metricName?.endsWith('_bucket')) t.le.set(String(v.labels.le), (t.le.get(String(v.labels.le)) ?? 0) + v.value);
  }
}

/** Reads every node's batch and command histograms now. */
export async function readNodes(nodes: ObservedNode[]): Promise<NodeReading> {
  const r: NodeReading = { batchSize: empty(), batchDuration: empty(), commands: new Map() };
  for (const n of nodes) {
    addValues(() => r.batchSize, await n.metrics.seatBatchSize.get());
    addValues(() => r.batchDuration, await n.metrics.seatBatchDuration.get());
    addValues((labels) => {
      const cmd = String(labels.command);
      const t = r.commands.get(cmd) ?? empty();
      r.commands.set(cmd, t);
      return t;
    }, await n.metrics.commandLatency.get());
  }
  return r;
}

function minus(a: HistogramTotals, b: HistogramTotals | undefined): HistogramTotals {
  if (!b) return a;
  return { count: a.count - b.count, sum: a.sum - b.sum, le: new Map([...a.le].map(([k, v]) => [k, v - (b.le.get(k) ?? 0)])) };
}

/** Seat batches between two readings: count, mean commands per batch, mean time and the time buckets. */
export function seatBatchStats(end: NodeReading, start?: NodeReading) {
  const size = minus(end.batchSize, start?.batchSize);
  const time = minus(end.batchDuration, start?.batchDuration);
  const count = size.count;
  return {
    batches: count,
    commandsPerBatch: count ? round(size.sum / count, 1) : 0,
    meanMs: count ? round((time.sum / count) * 1000, 1) : 0,
    cumulativeByLeSeconds: Object.fromEntries(time.le),
  };
}

/**
 * Socket command latency as the nodes measured it between two readings (arrival of the command -> its ack handed
 * to Socket.IO), per command: count, mean, and the share answered within 100 ms / 1 s. Beside the buyers' ack
 * latency it tells the time inside the server from the time on the wire and in the client's event loop.
 */
export function serverCommandStats(end: NodeReading, start?: NodeReading) {
  const share = (e: HistogramTotals, le: string) => (e.count ? round((100 * (e.le.get(le) ?? 0)) / e.count, 1) : 0);
  const out: Record<string, { count: number; meanMs: number; within100msPct: number; within1sPct: number }> = {};
  for (const [cmd, totals] of end.commands) {
    const e = minus(totals, start?.commands.get(cmd));
    if (e.count === 0) continue;
    out[cmd] = { count: e.count, meanMs: round((e.sum / e.count) * 1000, 1), within100msPct: share(e, '0.1'), within1sPct: share(e, '1') };
  }
  return out;
}
