import DataLoader from 'dataloader';

/**
 * Point reads by key, batched: the reads asked for within one turn of the event loop go to the database as one
 * query (`read` gets their distinct keys, e.g. for `WHERE id IN (...)`), at most `maxBatch` keys each.
 *
 * Made for join storms. A thousand handshakes land within a second, each wanting its user's row and its event's
 * status; as one query per handshake they were ~2,000 queries per 1,000 joins, each a turn of the pool and of
 * the event loop that the snapshots' socket writes were waiting for.
 *
 * Nothing is cached: a batch is sent at `setImmediate`, after every load in it was asked, so each answer is as
 * fresh as a query of its own would have been (DataLoader's per-key cache is off).
 */
export function batchedRead<K, V>(read: (keys: K[]) => Promise<Map<K, V>>, maxBatch = 500): (key: K) => Promise<V | undefined> {
  const loader = new DataLoader<K, V | undefined>(
    async (keys) => {
      const found = await read([...new Set(keys)]);
      return keys.map((k) => found.get(k));
    },
    { cache: false, maxBatchSize: maxBatch, batchScheduleFn: (run) => setImmediate(run) },
  );
  return (key) => loader.load(key);
}
