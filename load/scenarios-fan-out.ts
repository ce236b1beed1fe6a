/** Delivery scenarios: fan-out of changes to many watchers, a join storm, and memory per connection. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { bytes, encodeSnapshot } from '../server/realtime/compact';
import type { Ack, CompactSeatsSnapshot, HoldView } from '../server/contracts';
import { bareBroadcastBaseline, idleMemoryPerConnection, startMemoryProbe, type BroadcastResult, type IdleMemoryResult } from './baselines';
import { bareClusterBroadcastBaseline } from './bare-cluster';
import { connect, firstSnapshot, send } from './clients';
import { ClientGroup, clientProcessCount, splitJob } from './workers';
import { figure } from './report';
import { Latency, now, Progress, round, sleep, type LatencySummary } from './stats';
import { layout, startWatchers, type Ctx } from './scenario-kit';

export async function fanOut(ctx: Ctx): Promise<void> {
  const { opts, cluster, figures, details } = ctx;
  const ev = await cluster.seedEvent({ ...layout(opts.seats), holdTtlSeconds: 600, maxSeatsPerOrder: 10, maxSeatsPerUser: 10 });
  ctx.eventIds.push(ev.eventId);
  const [holder] = await cluster.createUsers(1);
  const connectStart = now();
  const watchers = await startWatchers(ctx, ev.eventId, Array.from({ length: opts.watchers }, () => null));
  details.connectSeconds = round((now() - connectStart) / 1000);
  const socket = connect(cluster.urls[0]!, ev.eventId, holder!.token);
  await firstSnapshot(socket);
  const holdAck = new Latency();
  let changes = 0;
  const progress = new Progress((s) => `${s.toFixed(0)}s ${opts.watchers} watchers, changes ${changes}, hold ack p99 ${holdAck.summary().p99}ms`, opts.progress).start();
  // Each tick holds one seat and releases the previous tick's hold: two committed changes per tick.
  const interval = 1000 / opts.rate;
  const t0 = now();
  const end = t0 + opts.duration * 1000;
  let previous: string | undefined;
  let i = 0;
  while (now() < end) {
    const tick = now();
    const seatId = ev.seats[i++ % ev.seats.length]!.id;
    const t1 = now();
    const ack = (await send(socket, 'seat:hold', { seatIds: [seatId] })) as Ack<HoldView>;
    holdAck.recordMs(now() - t1);
    if (ack.ok) changes++;
    if (previous && (await send(socket, 'seat:release', { holdToken: previous })).ok) changes++;
    previous = ack.ok ? ack.data.holdToken : undefined;
    await sleep(Math.max(0, interval - (now() - tick)));
  }
  if (previous && (await send(socket, 'seat:release', { holdToken: previous })).ok) changes++;
  const seconds = (now() - t0) / 1000;
  await sleep(1000);
  progress.stop();
  socket.close();
  const delivery = await watchers.finish();
  const d = delivery.summary();
  details.run = { changes, seconds: round(seconds), watchers: opts.watchers, deliveries: d.count, expectedDeliveries: changes * opts.watchers, delivery: d, holdAck: holdAck.summary() };
  let bare: BroadcastResult | undefined;
  let bareOneProcess: BroadcastResult | undefined;
  if (opts.baseline) {
    // The bare server makes as many broadcasts per second as reached each Evently watcher, each with as many
    // seats (Evently merges the seats committed within BROADCAST_BATCH_MS into one batch): the same writes.
    const batchesPerWatcher = ((details.watcherBatchesPerProcess as number[] | undefined) ?? []).reduce((a, b) => a + b, 0) / Math.max(1, opts.watchers);
    const emitsPerS = batchesPerWatcher > 0 ? batchesPerWatcher / seconds : changes / seconds;
    const seatsPerBatch = batchesPerWatcher > 0 ? Math.max(1, Math.round(changes / batchesPerWatcher)) : 1;
    details.eventlyBroadcasts = { perS: round(emitsPerS), seatsPerBatch };
    const o = { watchers: opts.watchers, ratePerS: emitsPerS, seatsPerBatch, durationMs: Math.min(opts.duration, 15) * 1000, connectConcurrency: opts.connectConcurrency, clientProcs: opts.clientProcs };
    bareOneProcess = await bareBroadcastBaseline(o);
    details.bareBroadcast = bareOneProcess;
    // Nodes in processes of their own over one Redis: the bare baseline takes the same shape (bare-cluster.ts).
    if (opts.nodes > 1 && opts.nodeProcs && !opts.redisCluster) {
      bare = await bareClusterBroadcastBaseline({ ...o, nodes: opts.nodes, redisUrl: opts.redisUrl });
      details.bareClusterBroadcast = bare;
    } else bare = bareOneProcess;
  }
  figures.push(figure('watchers', opts.watchers, 'sockets'));
  figures.push(figure('client processes (watchers)', Number(details.watcherProcesses ?? 0), 'processes', bare?.processes));
  figures.push(figure('seat changes/s', changes / seconds, '1/s', bare ? bare.changes / Math.min(opts.duration, 15) : undefined));
  const bc = details.eventlyBroadcasts as { perS: number; seatsPerBatch: number } | undefined;
  if (bc) figures.push(figure(`broadcasts/s (${bc.seatsPerBatch} seats each in the bare run)`, bc.perS, '1/s', bare ? bare.emits / Math.min(opts.duration, 15) : undefined));
  figures.push(figure('deliveries (received / expected)', d.count / Math.max(1, changes * opts.watchers), 'ratio', bare ? bare.delivered / Math.max(1, bare.changes * bare.watchers) : undefined));
  // Expected above counts every committed version; a version merged away within one batch (the same seat held and
  // released before the flush) is broadcast to nobody. This one asks: did every watcher get every batch its node
  // sent? (Per node: each node merges over its own windows, so the nodes' batches differ.)
  const expected = Number(details.expectedDeliveries ?? 0) || Number(details.broadcastVersions ?? 0) * opts.watchers;
  if (expected) figures.push(figure('deliveries (received / broadcast versions x watchers)', d.count / expected, 'ratio', undefined, { value: ['>=', 1] }));
  if (d.count) {
    figures.push(figure('delivery p50 (commit -> watcher)', d.p50, 'ms', bare?.latency.p50));
    figures.push(figure('delivery p99 (commit -> watcher)', d.p99, 'ms', bare?.latency.p99, { ratio: ['<=', 1.5] }));
    figures.push(figure('delivery max', d.max, 'ms', bare?.latency.max));
    // Split by the node a watcher is connected to: node 0 commits every change (and serves the driver), the
    // others hear of it over the adapter. The bare cluster's node 0 emits likewise.
    const byNode = (details.deliveryByNode as LatencySummary[] | undefined) ?? [];
    if (byNode.length > 1) {
      byNode.forEach((n, i) => {
        figures.push(figure(`delivery p50 / p99, watchers on node ${i}: p50`, n.p50, 'ms', bare?.byNode?.[i]?.p50));
        figures.push(figure(`delivery p50 / p99, watchers on node ${i}: p99`, n.p99, 'ms', bare?.byNode?.[i]?.p99));
      });
    }
    if (bare !== bareOneProcess && bareOneProcess) {
      figures.push(figure('bare in one process: broadcasts/s', bareOneProcess.emits / Math.min(opts.duration, 15), '1/s'));
      figures.push(figure('delivery p99 vs bare in one process', d.p99, 'ms', bareOneProcess.latency.p99));
    }
  }
}

/** Bytes of a compact snapshot on the wire: its binary attachments plus the JSON around their placeholders. */
function compactBytes(c: CompactSeatsSnapshot): number {
  const placeholder = (num: number) => ({ _placeholder: true, num });
  const binary = [c.status, c.versions, c.expiresAt].reduce((n, f) => n + bytes(f).byteLength, 0);
  return binary + JSON.stringify({ ...c, status: placeholder(0), versions: placeholder(1), expiresAt: placeholder(2) }).length;
}

export async function joinStorm(ctx: Ctx): Promise<void> {
  const { opts, cluster, figures, details } = ctx;
  const ev = await cluster.seedEvent({ ...layout(opts.seats), holdTtlSeconds: 600, maxSeatsPerOrder: 10, maxSeatsPerUser: 10 });
  ctx.eventIds.push(ev.eventId);
  const users = await cluster.createUsers(opts.clients);
  const run = async (url: string, label: string, withToken: boolean) => {
    const tokens = users.map((u) => (withToken ? u.token : null));
    const job = {
      kind: 'join' as const,
      url,
      eventId: ev.eventId,
      tokens,
      windowMs: opts.joinWindowMs,
      timeoutMs: 60_000,
      format: opts.format,
      // The bare server has no layout endpoint: its clients take the order from the cluster, as a CDN would serve it.
      layoutUrl: cluster.urls[0]!,
    };
    // Client i joins at i/n of the window wherever it runs: each process spaces its interleaved share the same way.
    const group = new ClientGroup(splitJob(job, clientProcessCount(tokens.length, opts.clientProcs)));
    try {
      await group.all('ready');
      const progress = new Progress((s) => `${s.toFixed(1)}s ${label}: ${group.progress.counters.done ?? 0}/${opts.clients} snapshots, p99 ${group.progress.p99 ?? 0}ms`, opts.progress).start(250);
      group.send({ type: 'start' });
      const done = await group.all<{ latency: string; failures: number; seconds: number }>('done');
      progress.stop();
      const hist = new Latency();
      for (const d of done) hist.merge(d.latency);
      return { latency: hist.summary(), failures: done.reduce((n, d) => n + d.failures, 0), seconds: round(Math.max(...done.map((d) => d.seconds))), processes: group.members.length };
    } finally {
      await group.stop();
    }
  };
  await cluster.sync();
  const q0 = cluster.queryCount();
  const evently = await run(cluster.urls[0]!, 'evently', true);
  await cluster.sync();
  details.run = { ...evently, dbQueries: cluster.queryCount() - q0 };
  let bare: typeof evently | undefined;
  if (opts.baseline) {
    // A bare Socket.IO server that answers each connection with an already built snapshot of the same form and size.
    const snapshot = await cluster.services.seats.snapshot(ev.eventId);
    details.jsonSnapshotBytes = JSON.stringify(snapshot).length;
    const compact = encodeSnapshot(snapshot, (await cluster.services.layouts.forEvent(ev.eventId)).order);
    details.compactSnapshotBytes = compactBytes(compact);
    details.snapshotBytes = opts.format === 'compact' ? details.compactSnapshotBytes : details.jsonSnapshotBytes;
    const http = createServer();
    const io = new Server(http, { transports: ['websocket'], serveClient: false });
    io.of(/^\/events\/\d+$/).on('connection', (s) => (opts.format === 'compact' ? s.emit('seats:snapshot:compact', compact) : s.emit('seats:snapshot', snapshot)));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    await sleep(500);
    bare = await run(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, 'bare', false);
    io.close();
    details.bare = bare;
  }
  figures.push(figure('clients', opts.clients, 'sockets'));
  figures.push(figure('seats in snapshot', opts.seats, 'seats'));
  if (details.snapshotBytes !== undefined) {
    // Issue 11's size target is for a 20,000-seat venue (a status byte and a version per seat grow with it).
    const sizeTarget = opts.format === 'compact' && opts.seats <= 20_000 ? { value: ['<=', 48 * 1024] as ['<=', number] } : undefined;
    figures.push(figure(`snapshot size (${opts.format})`, Number(details.snapshotBytes), 'bytes', undefined, sizeTarget));
  }
  figures.push(figure('snapshot failures', evently.failures, 'clients', bare?.failures));
  figures.push(figure('time to snapshot p50', evently.latency.p50, 'ms', bare?.latency.p50));
  figures.push(figure('time to snapshot p95', evently.latency.p95, 'ms', bare?.latency.p95));
  figures.push(figure('time to snapshot p99', evently.latency.p99, 'ms', bare?.latency.p99, { value: ['<=', 500] }));
}

export async function memoryComparison(ctx: Ctx, eventId: number): Promise<void> {
  const { opts, cluster, figures, details } = ctx;
  if (!opts.memory || opts.memoryConnections <= 0 || opts.url || cluster.opts.dialect !== 'mysql') return;
  const n = opts.memoryConnections;
  const env = {
    NODE_ENV: 'production',
    DATABASE_URL: cluster.databaseUrl,
    JWT_SECRET: cluster.config.jwt.secret,
    LOG_LEVEL: 'error',
    SEED_DEMO: 'false',
    LOAD_EVENT_ID: String(eventId),
  };
  const measure = async (kind: 'bare' | 'evently'): Promise<IdleMemoryResult> => {
    const probe = await startMemoryProbe(kind, kind === 'evently' ? env : {});
    try {
      // Evently sockets are measured after their snapshot arrived (what an idle seat map costs); bare ones once connected.
      return await idleMemoryPerConnection(
        probe,
        n,
        () => {
          const s = connect(probe.url, kind === 'evently' ? eventId : 1);
          const ready =
            kind === 'evently'
              ? firstSnapshot(s)
              : new Promise<void>((resolve, reject) => {
                  s.once('connect', () => resolve());
                  s.once('connect_error', reject);
                });
          return { ready, close: () => s.close() };
        },
        opts.connectConcurrency,
      );
    } finally {
      await probe.stop();
    }
  };
  const bare = await measure('bare');
  const evently = await measure('evently');
  details.memory = { bare, evently };
  figures.push(figure(`memory per idle connection (heap+external, ${n} sockets)`, evently.bytesPerConnection / 1024, 'KiB', bare.bytesPerConnection / 1024, { ratio: ['<=', 1.2] }));
  figures.push(figure('memory per idle connection (rss)', evently.rssBytesPerConnection / 1024, 'KiB', bare.rssBytesPerConnection / 1024));
}
