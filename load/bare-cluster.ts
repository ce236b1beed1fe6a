/**
 * The fan-out baseline for runs whose nodes live in processes of their own (`--node-procs`): as many bare
 * Socket.IO servers (no auth, no database, no Evently code) in child processes, sharing Socket.IO's Redis adapter
 * exactly as Evently's nodes do, with the watchers spread over them the same way. Node 0 emits, as every change of
 * the fan-out driver commits on node 0; the adapter carries each emit to the other nodes. This is "a bare
 * Socket.IO emit to the same watchers" over the same topology: one bare process writing to every watcher would
 * be a different machine layout (and on 2 cores it cannot keep the asked rate at 10,000 watchers).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { emitAtRate, type BareBroadcastOptions, type BroadcastResult } from './baselines';
import { childExecArgv, stopChild } from './child';
import { sleep } from './stats';
import { mergeDelivery, mergeDeliveryByNode, type WatchersDone } from './watcher-results';
import { ClientGroup, clientProcessCount, splitJob } from './workers';

type FromBareNode = { type: 'ready'; url: string } | { type: 'sent'; sent: [string, number][] } | { type: 'failed'; message: string };

/** The parent's handle on one bare node process. */
class BareNodeProcess {
  url = '';
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  readonly ready: Promise<void>;
  private onSent: ((sent: [string, number][]) => void) | undefined;

  constructor(redisUrl: string, keyPrefix: string) {
    this.child = fork(join(__dirname, 'bare-cluster.ts'), ['--load-bare-node'], {
      // LOAD_NODE_CPU_PROF profiles these processes too, beside the Evently nodes they are the baseline for.
      execArgv: childExecArgv('LOAD_NODE_CPU_PROF'),
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, LOAD_BARE_REDIS_URL: redisUrl, LOAD_BARE_KEY_PREFIX: keyPrefix },
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.ready = new Promise((resolve, reject) => {
      this.child.on('message', (m: FromBareNode) => {
        if (m.type === 'ready') {
          this.url = m.url;
          resolve();
        } else if (m.type === 'sent') this.onSent?.(m.sent);
        else reject(new Error(`bare node: ${m.message}`));
      });
      this.child.once('exit', (code, signal) => reject(new Error(`bare node exited (${code ?? signal})`)));
    });
  }

  /** Emits at `ratePerS` for `durationMs` from this node; resolves with each change's emit instant. */
  emit(ratePerS: number, durationMs: number, seatsPerBatch = 1): Promise<[string, number][]> {
    return new Promise((resolve) => {
      this.onSent = resolve;
      this.child.send({ type: 'run', ratePerS, durationMs, seatsPerBatch });
    });
  }

  stop(): Promise<void> {
    return stopChild(this.child, this.exited);
  }
}

/** Bare Socket.IO nodes over one Redis, node 0 emitting to the watchers of all of them. */
export async function bareClusterBroadcastBaseline(o: BareBroadcastOptions & { nodes: number; redisUrl: string }): Promise<BroadcastResult> {
  const prefix = `bare-${process.pid}-${Date.now()}`;
  const nodes = Array.from({ length: o.nodes }, () => new BareNodeProcess(o.redisUrl, prefix));
  let group: ClientGroup | undefined;
  try {
    await Promise.all(nodes.map((n) => n.ready));
    const job = { kind: 'watchers' as const, urls: nodes.map((n) => n.url), eventId: 1, tokens: Array.from({ length: o.watchers }, () => null), connectConcurrency: o.connectConcurrency, waitFor: 'connect' as const };
    group = new ClientGroup(splitJob(job, clientProcessCount(o.watchers, o.clientProcs)));
    await group.all('connected');
    await sleep(500);
    const sent = await nodes[0]!.emit(o.ratePerS, o.durationMs, o.seatsPerBatch);
    await sleep(1500);
    group.send({ type: 'finish', commitTimes: sent });
    const parts = await group.all<WatchersDone>('done');
    const latency = mergeDelivery(parts);
    const byNode = mergeDeliveryByNode(parts).map((h) => h.summary());
    return { watchers: o.watchers, emits: Math.ceil(sent.length / (o.seatsPerBatch ?? 1)), changes: sent.length, delivered: latency.count, latency: latency.summary(), byNode, processes: group.members.length };
  } finally {
    await group?.stop();
    await Promise.all(nodes.map((n) => n.stop()));
  }
}

/** The child side: one bare Socket.IO server with the Redis adapter; emits when the parent says so. */
async function runBareNode(): Promise<void> {
  const send = (m: FromBareNode) => process.send?.(m);
  try {
    const pub = new Redis(process.env.LOAD_BARE_REDIS_URL!);
    const sub = pub.duplicate();
    const http = createServer();
    const io = new Server(http, { transports: ['websocket'], serveClient: false, adapter: createAdapter(pub, sub, { key: process.env.LOAD_BARE_KEY_PREFIX }) });
    const nsp = io.of('/events/1');
    nsp.on('connection', (s) => void s.join('event'));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    process.on('message', (m: { type: string; ratePerS: number; durationMs: number; seatsPerBatch: number }) => {
      if (m.type !== 'run') return;
      void emitAtRate((batch) => nsp.to('event').emit('seats:changed', batch), m.ratePerS, m.durationMs, m.seatsPerBatch).then((sent) => send({ type: 'sent', sent: [...sent] }));
    });
    process.on('disconnect', () => process.exit(0));
    send({ type: 'ready', url: `http://127.0.0.1:${(http.address() as AddressInfo).port}` });
  } catch (err) {
    send({ type: 'failed', message: (err as Error).stack ?? String(err) });
    process.exit(1);
  }
}

if (process.argv.includes('--load-bare-node')) void runBareNode();
