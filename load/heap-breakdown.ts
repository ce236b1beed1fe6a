/**
 * What an idle connection keeps on the server's heap, by kind of object: `npx tsx load/heap-breakdown.ts
 * [connections=1000] [json|compact]`. Starts a bare Socket.IO server and one Evently node in child processes
 * (load/mem-child.ts, as the soak's memory comparison does), lets `connections` clients connect and leave once
 * (warm-up, as the soak's figure does), writes a V8 heap snapshot of each before and after `connections` clients connected (Evently's waited for their snapshot), and prints the difference per
 * connection grouped by V8 node type and constructor/closure name, Evently next to bare. Needs MariaDB
 * (LOAD_MYSQL_URL) for the Evently node. Snapshots go to a temporary directory, removed afterwards unless
 * LOAD_HEAP_KEEP=1.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMemoryProbe, warmUp, type MemoryProbe } from './baselines';
import { connect, fetchLayoutOrder, firstSnapshot } from './clients';
import { Cluster } from './harness';
import { layout } from './scenario-kit';
import { pool, sleep } from './stats';

interface HeapSnapshotFile {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

type Tally = Map<string, { bytes: number; count: number }>;

function add(t: Tally, key: string, bytes: number): void {
  const e = t.get(key) ?? { bytes: 0, count: 0 };
  e.bytes += bytes;
  e.count++;
  t.set(key, e);
}

/**
 * Self size and count of the live objects in a heap snapshot, by `type:name` (strings by type only: their name
 * is their text); and for the kinds in `explain`, the same bytes by what holds them (`holder kind .edge`).
 */
export function heapByKind(file: string, explain: string[] = []): { kinds: Tally; holders: Tally } {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshotFile;
  const meta = snap.snapshot.meta;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const types = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const [iType, iName, iSize, iEdges] = ['type', 'name', 'self_size', 'edge_count'].map((f) => meta.node_fields.indexOf(f)) as [number, number, number, number];
  const [eType, eName, eTo] = ['type', 'name_or_index', 'to_node'].map((f) => meta.edge_fields.indexOf(f)) as [number, number, number];
  const kindOf = (i: number): string => {
    const type = types[snap.nodes[i + iType]!]!;
    const named = type === 'object' || type === 'closure' || type === 'native' || type === 'hidden' || type === 'array' || type === 'object shape';
    return named ? `${type}:${snap.strings[snap.nodes[i + iName]!]!.slice(0, 60)}` : type;
  };
  const kinds: Tally = new Map();
  const holders: Tally = new Map();
  const wanted = new Set(explain);
  let edge = 0;
  for (let i = 0; i < snap.nodes.length; i += nf) {
    add(kinds, kindOf(i), snap.nodes[i + iSize]!);
    const count = snap.nodes[i + iEdges]!;
    if (wanted.size) {
      for (let e = edge; e < edge + count * ef; e += ef) {
        const to = snap.edges[e + eTo]!;
        const k = kindOf(to);
        if (!wanted.has(k)) continue;
        const et = edgeTypes[snap.edges[e + eType]!]!;
        // Weak edges do not keep anything alive.
        if (et === 'weak') continue;
        const name = et === 'element' || et === 'hidden' ? `[${et}]` : snap.strings[snap.edges[e + eName]!];
        add(holders, `${k} <- ${kindOf(i)}.${name}`, snap.nodes[to + iSize]!);
      }
    }
    edge += count * ef;
  }
  return { kinds, holders };
}

/** Per connection: (after - before) / n, by key. */
function perConnection(before: Tally, after: Tally, n: number): Tally {
  const out: Tally = new Map();
  for (const [k, a] of after) {
    const b = before.get(k) ?? { bytes: 0, count: 0 };
    out.set(k, { bytes: (a.bytes - b.bytes) / n, count: (a.count - b.count) / n });
  }
  return out;
}

async function measure(probe: MemoryProbe, dir: string, label: string, n: number, open: () => { ready: Promise<unknown>; close(): void }) {
  // LOAD_HEAP_COLD=1 skips the warm-up, to see what a cold node's first burst grows.
  if (process.env.LOAD_HEAP_COLD !== '1') await warmUp(n, open, 50);
  await sleep(300);
  await probe.heapSnapshot(join(dir, `${label}-before.heapsnapshot`));
  const clients: { close(): void }[] = [];
  await pool(Array.from({ length: n }, (_, i) => i), 50, async () => {
    const c = open();
    clients.push(c);
    await c.ready;
  });
  await sleep(1500);
  await probe.heapSnapshot(join(dir, `${label}-after.heapsnapshot`));
  for (const c of clients) c.close();
  const before = heapByKind(join(dir, `${label}-before.heapsnapshot`), EXPLAIN);
  const after = heapByKind(join(dir, `${label}-after.heapsnapshot`), EXPLAIN);
  return { kinds: perConnection(before.kinds, after.kinds, n), holders: perConnection(before.holders, after.holders, n) };
}

/** Kinds whose holders are listed: where Evently's per-socket surplus over bare Socket.IO sits (first run). */
const EXPLAIN = ['array:(object elements)', 'array:(object properties)'];

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 1000);
  const format = process.argv[3] === 'json' ? 'json' : 'compact';
  const dir = mkdtempSync(join(tmpdir(), 'evently-heap-'));
  const cluster = new Cluster({ nodes: 1, dialect: 'mysql', mysqlUrl: process.env.LOAD_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306', redisUrl: '', redisCluster: false, poolMax: 4, env: {}, logLevel: 'error' });
  try {
    await cluster.start();
    const ev = await cluster.seedEvent({ ...layout(1000), holdTtlSeconds: 600, maxSeatsPerOrder: 10, maxSeatsPerUser: 10 });
    const env = { NODE_ENV: 'production', DATABASE_URL: cluster.databaseUrl, JWT_SECRET: cluster.config.jwt.secret, LOG_LEVEL: 'error', SEED_DEMO: 'false', LOAD_EVENT_ID: String(ev.eventId) };
    const bareProbe = await startMemoryProbe('bare');
    const bare = await measure(bareProbe, dir, 'bare', n, () => {
      const s = connect(bareProbe.url, 1);
      return { ready: new Promise((resolve, reject) => (s.once('connect', () => resolve(undefined)), s.once('connect_error', reject))), close: () => s.close() };
    }).finally(() => bareProbe.stop());
    const probe = await startMemoryProbe('evently', env);
    const order = format === 'compact' ? await fetchLayoutOrder(probe.url, ev.eventId) : undefined;
    const evently = await measure(probe, dir, 'evently', n, () => {
      const s = connect(probe.url, ev.eventId, undefined, order);
      return { ready: firstSnapshot(s, undefined, order), close: () => s.close() };
    }).finally(() => probe.stop());
    const total = (m: Tally) => [...m.values()].reduce((t, e) => t + e.bytes, 0);
    console.log(`live heap per idle connection (${n} sockets, ${format}): evently ${total(evently.kinds).toFixed(0)} B, bare ${total(bare.kinds).toFixed(0)} B`);
    const table = (title: string, e: Tally, b: Tally, rowsShown: number) => {
      console.log(`\n${title} | evently B/conn | objects/conn | bare B/conn | objects/conn | evently - bare B`);
      const z = { bytes: 0, count: 0 };
      const rows = [...new Set([...e.keys(), ...b.keys()])].map((k) => ({ k, e: e.get(k) ?? z, b: b.get(k) ?? z }));
      rows.sort((x, y) => Math.abs(y.e.bytes - y.b.bytes) - Math.abs(x.e.bytes - x.b.bytes) || y.e.bytes - x.e.bytes);
      for (const r of rows.filter((r) => Math.abs(r.e.bytes) >= 16 || Math.abs(r.b.bytes) >= 16).slice(0, rowsShown)) {
        console.log(`${r.k} | ${r.e.bytes.toFixed(0)} | ${r.e.count.toFixed(2)} | ${r.b.bytes.toFixed(0)} | ${r.b.count.toFixed(2)} | ${(r.e.bytes - r.b.bytes).toFixed(0)}`);
      }
    };
    table('kind', evently.kinds, bare.kinds, 25);
    table('held kind <- holder.edge', evently.holders, bare.holders, 25);
  } finally {
    await cluster.close();
    // LOAD_HEAP_KEEP=1 keeps the snapshots, e.g. to open them in Chrome DevTools' Memory tab.
    if (process.env.LOAD_HEAP_KEEP === '1') console.log(`\nheap snapshots kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
