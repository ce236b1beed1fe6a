/**
 * Evently nodes in processes of their own (`--node-procs true`), as production runs them: each node gets its own
 * event loop and core instead of sharing the generator's thread with the other nodes. The parent keeps what the
 * scenarios read from in-process nodes: commit instants (the start of every broadcast-delivery measurement, sent
 * up in batches and flushed on demand), the count of database queries, and the group-commit metrics.
 *
 * Protocol (IPC, `advanced` serialisation): child -> {type:'ready', url}, {type:'commits', commits, queries},
 * {type:'metrics', id, batchSize, batchDuration}, {type:'synced', id}; parent -> {type:'sync', id},
 * {type:'metrics', id}, {type:'stop'}.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../server/config';
import { startNode } from '../server/entry/node';
import type { SeatState } from '../server/contracts';
import { childExecArgv, stopChild } from './child';
import { wallNow } from './stats';

/** prom-client's `get()` answer, as far as the scenarios read it. */
export interface MetricValues {
  values: { value: number; metricName?: string; labels: Record<string, unknown> }[];
}

/** What the scenarios read from a node, whether it runs in this process or in a child. */
export interface ObservedNode {
  metrics: { seatBatchSize: { get(): Promise<MetricValues> }; seatBatchDuration: { get(): Promise<MetricValues> }; commandLatency: { get(): Promise<MetricValues> } };
}

type FromChild =
  | { type: 'ready'; url: string }
  | { type: 'commits'; commits: [string, number][]; queries: number }
  | { type: 'metrics'; id: number; batchSize: MetricValues; batchDuration: MetricValues; commandLatency: MetricValues }
  | { type: 'synced'; id: number }
  | { type: 'failed'; message: string };

/** The parent's handle on one node process. */
export class NodeProcess implements ObservedNode {
  url = '';
  /** Queries the node has sent to the database, as of its last report. */
  queries = 0;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private readonly waiting = new Map<number, (m: FromChild) => void>();
  private nextId = 0;
  private ready!: Promise<void>;

  /** `env` is the node's configuration as environment variables; `onCommits` receives its commit instants. */
  constructor(env: Record<string, string>, index: number, private readonly onCommits: (commits: [string, number][]) => void) {
    this.child = fork(join(__dirname, 'node-process.ts'), ['--load-node-process'], {
      execArgv: childExecArgv('LOAD_NODE_CPU_PROF'),
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, LOAD_NODE_ENV: JSON.stringify(env), LOAD_NODE_INDEX: String(index) },
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.ready = new Promise((resolve, reject) => {
      this.child.on('message', (m: FromChild) => {
        if (m.type === 'ready') {
          this.url = m.url;
          resolve();
        } else if (m.type === 'failed') reject(new Error(`node process ${index}: ${m.message}`));
        else if (m.type === 'commits') {
          this.queries = m.queries;
          this.onCommits(m.commits);
        } else this.waiting.get(m.id)?.(m);
      });
      this.child.once('exit', (code, signal) => reject(new Error(`node process ${index} exited (${code ?? signal})`)));
    });
  }

  started(): Promise<void> {
    return this.ready;
  }

  /** Resolves once every commit instant and query the node had recorded when asked has arrived here. */
  sync(): Promise<void> {
    return this.ask({ type: 'sync' }).then(() => undefined);
  }

  readonly metrics = {
    seatBatchSize: { get: async (): Promise<MetricValues> => ((await this.ask({ type: 'metrics' })) as Extract<FromChild, { type: 'metrics' }>).batchSize },
    seatBatchDuration: { get: async (): Promise<MetricValues> => ((await this.ask({ type: 'metrics' })) as Extract<FromChild, { type: 'metrics' }>).batchDuration },
    commandLatency: { get: async (): Promise<MetricValues> => ((await this.ask({ type: 'metrics' })) as Extract<FromChild, { type: 'metrics' }>).commandLatency },
  };

  private ask(message: { type: 'sync' | 'metrics' }): Promise<FromChild> {
    const id = ++this.nextId;
    return new Promise((resolve) => {
      this.waiting.set(id, (m) => {
        this.waiting.delete(id);
        resolve(m);
      });
      this.child.send({ ...message, id });
    });
  }

  /** Asks the node to shut down gracefully (its own close()); SIGKILL after 15 s. */
  stop(): Promise<void> {
    return stopChild(this.child, this.exited, { ask: () => this.child.send({ type: 'stop' }), killAfterMs: 15_000, signal: 'SIGKILL' });
  }
}

/** The child side: one node, reporting to the parent. */
async function runChild(): Promise<void> {
  const send = (m: FromChild) => process.send?.(m);
  try {
    const config = loadConfig(JSON.parse(process.env.LOAD_NODE_ENV ?? '{}') as Record<string, string>);
    const logger = pino({ level: config.logLevel, base: { pid: process.pid } }, pino.destination(2)).child({ node: Number(process.env.LOAD_NODE_INDEX) });
    const node = await startNode(config, { logger, skipMigrations: true });
    let queries = 0;
    let commits: [string, number][] = [];
    node.db.on('query', () => queries++);
    // As in the in-process harness: the seat services hand changes to the broadcaster right after they commit.
    const b = node.broadcaster;
    const original = b.seatsChanged.bind(b);
    b.seatsChanged = (eventId: number, seats: SeatState[], cursor: number) => {
      const t = wallNow();
      for (const s of seats) commits.push([`${s.id}:${s.version}`, t]);
      original(eventId, seats, cursor);
    };
    const flush = () => {
      send({ type: 'commits', commits, queries });
      commits = [];
    };
    const timer = setInterval(flush, 250);
    process.on('message', async (m: { type: string; id: number }) => {
      if (m.type === 'sync') {
        flush();
        send({ type: 'synced', id: m.id });
      } else if (m.type === 'metrics') {
        send({ type: 'metrics', id: m.id, batchSize: await node.metrics.seatBatchSize.get(), batchDuration: await node.metrics.seatBatchDuration.get(), commandLatency: await node.metrics.commandLatency.get() } as FromChild);
      } else if (m.type === 'stop') {
        clearInterval(timer);
        await node.close().catch(() => undefined);
        process.exit(0);
      }
    });
    process.on('disconnect', () => process.exit(0));
    send({ type: 'ready', url: node.url });
  } catch (err) {
    send({ type: 'failed', message: (err as Error).stack ?? String(err) });
    process.exit(1);
  }
}

if (process.argv.includes('--load-node-process')) void runChild();
