import { expectedDeliveries, type WatchersDone } from '../../load/watcher-results';

const part = (versionsByNode: string[][], watchersByNode: number[]): WatchersDone => ({ delivery: '', batches: 0, unmatched: 0, failures: 0, versionsByNode, watchersByNode });

describe('load: deliveries expected from the watchers of several nodes', () => {
  it('counts, per node, the versions its watchers received times its watchers, across processes', () => {
    // Node 0 sent 1:2 and 1:3; node 1 merged 1:2 away and sent 1:3 and 2:2. Two processes, watchers on both nodes.
    const parts = [part([['1:2', '1:3'], ['1:3']], [3, 2]), part([['1:3'], ['2:2']], [1, 4])];
    expect(expectedDeliveries(parts)).toBe(2 * 4 + 2 * 6);
  });

  it('is 0 for workers that do not report per node (the caller then falls back to all versions x all watchers)', () => {
    expect(expectedDeliveries([{ delivery: '', batches: 0, unmatched: 0, failures: 0, versions: ['1:2'] }])).toBe(0);
  });
});
