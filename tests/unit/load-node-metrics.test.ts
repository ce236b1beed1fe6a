import { Histogram, Registry } from 'prom-client';
import { readNodes, seatBatchStats, serverCommandStats } from '../../load/node-metrics';

/**
 * The per-phase node figures of a load run (load/node-metrics.ts), read from real prom-client histograms as the
 * nodes keep them: two nodes summed, and a phase counted from a reading at its start, not from the nodes' start.
 */
/** A node's three histograms as server/metrics/metrics.ts defines them (names, labels, buckets). */
function nodeMetrics() {
  const registers = [new Registry()];
  const buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
  return {
    seatBatchSize: new Histogram({ name: 'evently_seat_batch_commands', help: 'x', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256], registers }),
    seatBatchDuration: new Histogram({ name: 'evently_seat_batch_duration_seconds', help: 'x', buckets, registers }),
    commandLatency: new Histogram({ name: 'evently_socket_command_duration_seconds', help: 'x', labelNames: ['command', 'outcome'], buckets, registers }),
  };
}

describe('load: the nodes\' metrics over one phase', () => {
  it('When a second phase runs on the same nodes, then its batch and command figures count only that phase', async () => {
    const a = nodeMetrics();
    const b = nodeMetrics();
    const nodes = [{ metrics: a }, { metrics: b }];
    // Phase 1 (e.g. 8 contenders): small batches, quick commands, and a release that phase 2 never sends.
    for (let i = 0; i < 10; i++) {
      a.seatBatchSize.observe(4);
      a.seatBatchDuration.observe(0.008);
      a.commandLatency.observe({ command: 'seat:hold', outcome: 'ok' }, 0.02);
    }
    b.commandLatency.observe({ command: 'seat:release', outcome: 'ok' }, 0.02);
    const start = await readNodes(nodes);
    // Phase 2 (e.g. 256 contenders): bigger, slower batches on both nodes; holds answered in 50 ms and 2 s.
    a.seatBatchSize.observe(100);
    b.seatBatchSize.observe(140);
    a.seatBatchDuration.observe(0.03);
    b.seatBatchDuration.observe(0.05);
    a.commandLatency.observe({ command: 'seat:hold', outcome: 'ok' }, 0.05);
    b.commandLatency.observe({ command: 'seat:hold', outcome: 'SEAT_UNAVAILABLE' }, 2);
    const end = await readNodes(nodes);

    expect(seatBatchStats(end, start)).toMatchObject({ batches: 2, commandsPerBatch: 120, meanMs: 40 });
    expect(seatBatchStats(end, start).cumulativeByLeSeconds).toMatchObject({ '0.01': 0, '0.025': 0, '0.05': 2 });
    expect(serverCommandStats(end, start)).toEqual({ 'seat:hold': { count: 2, meanMs: 1025, within100msPct: 50, within1sPct: 50 } });
    // Without a start reading: the whole life of the nodes.
    expect(seatBatchStats(end)).toMatchObject({ batches: 12, commandsPerBatch: 23.3 });
    expect(Object.keys(serverCommandStats(end)).sort()).toEqual(['seat:hold', 'seat:release']);
  });
});
