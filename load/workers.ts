import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { childExecArgv, stopChild } from './child';
import type { ClientJob } from './client-worker';

/** The latest progress message of a client thread or process. */
export interface ClientProgress {
  counters: Record<string, number>;
  p99?: number;
}

/**
 * Messages from one client runner, queued by type until asked for. The same protocol runs over a worker thread
 * (ClientThread) and over a child process's IPC channel (ClientProcess); see client-worker.ts.
 */
abstract class ClientRunner {
  /** Messages received and not yet asked for, by type. */
  private readonly inbox = new Map<string, unknown[]>();
  private readonly waiters = new Map<string, { resolve: (m: unknown) => void; reject: (e: Error) => void }[]>();
  private failure?: Error;
  /** The latest progress message. */
  progress: ClientProgress = { counters: {} };

  protected receive(m: { type: string; message?: string }): void {
    if (m.type === 'progress') {
      this.progress = m as unknown as ClientProgress;
      return;
    }
    if (m.type === 'error') return this.fail(new Error(`client ${this.kind} failed: ${m.message}`));
    const w = this.waiters.get(m.type)?.shift();
    if (w) w.resolve(m);
    else this.inbox.set(m.type, [...(this.inbox.get(m.type) ?? []), m]);
  }

  protected fail(err: Error): void {
    this.failure ??= err;
    for (const list of this.waiters.values()) for (const w of list.splice(0)) w.reject(err);
  }

  protected abstract readonly kind: string;

  /** Resolves with the next message of `type` (one that arrived before the call counts too). */
  next<T = any>(type: string): Promise<T> {
    const queued = this.inbox.get(type);
    if (queued?.length) return Promise.resolve(queued.shift() as T);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      this.waiters.set(type, [...(this.waiters.get(type) ?? []), { resolve: resolve as (m: unknown) => void, reject }]);
    });
  }

  abstract send(message: unknown): void;
  abstract stop(): Promise<void>;
}

/**
 * A client thread running one ClientJob (see client-worker.ts). The worker loads TypeScript through tsx's
 * require hook, so this works under `tsx` (the CLI) and under jest alike.
 */
export class ClientThread extends ClientRunner {
  protected readonly kind = 'thread';
  private readonly worker: Worker;

  constructor(job: ClientJob) {
    super();
    const file = join(__dirname, 'client-worker.ts');
    this.worker = new Worker(`require('tsx/cjs'); require(${JSON.stringify(file)});`, { eval: true, workerData: job });
    this.worker.on('message', (m: { type: string; message?: string }) => this.receive(m));
    this.worker.on('error', (err) => this.fail(err));
  }

  send(message: unknown): void {
    this.worker.postMessage(message);
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

/**
 * A child process running one ClientJob: its own descriptor table (a thread shares the generator's, which also
 * holds the in-process nodes' server-side sockets) and its own event loop and heap. `advanced` serialisation
 * keeps the messages the same structured clones a worker thread gets.
 */
export class ClientProcess extends ClientRunner {
  protected readonly kind = 'process';
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;

  constructor(job: ClientJob) {
    super();
    this.child = fork(join(__dirname, 'client-worker.ts'), ['--load-client-process'], {
      execArgv: childExecArgv('LOAD_CLIENT_CPU_PROF'),
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.child.on('message', (m: { type: string; message?: string }) => this.receive(m));
    this.child.on('error', (err) => this.fail(err));
    this.child.once('exit', (code, signal) => this.fail(new Error(`client process exited (${code ?? signal})`)));
    this.child.send({ type: 'job', job });
  }

  send(message: unknown): void {
    if (this.child.connected) this.child.send(message as never);
  }

  stop(): Promise<void> {
    return stopChild(this.child, this.exited);
  }
}

/**
 * Sockets one client process opens at most by default: well under the 20,000-descriptor limit of this machine's
 * processes, with room for the process's own files and connections.
 */
export const SOCKETS_PER_PROCESS = 4000;

/** Processes for `sockets` clients: `asked` when given (never more than there are clients), else one per SOCKETS_PER_PROCESS. */
export function clientProcessCount(sockets: number, asked?: number): number {
  return Math.max(1, Math.min(Math.max(1, sockets), asked ?? Math.ceil(sockets / SOCKETS_PER_PROCESS)));
}

/**
 * One watchers or join job split into `parts` jobs of interleaved clients (client i goes to part i % parts), so
 * each part spreads over every node, and a join window covers all parts alike.
 */
export function splitJob(job: Extract<ClientJob, { kind: 'watchers' | 'join' }>, parts: number): Extract<ClientJob, { kind: 'watchers' | 'join' }>[] {
  const n = Math.max(1, Math.min(parts, job.tokens.length || 1));
  return Array.from({ length: n }, (_, p) => {
    const tokens = job.tokens.filter((_, i) => i % n === p);
    if (job.kind === 'join') return { ...job, tokens };
    // Keep each client's node as in one process: the part's k-th client is the job's (p + k*n)-th.
    const urls = job.urls.length > 1 ? Array.from({ length: Math.min(tokens.length, job.urls.length) }, (_, k) => job.urls[(p + k * n) % job.urls.length]!) : job.urls;
    return { ...job, tokens, urls, connectConcurrency: Math.max(1, Math.ceil(job.connectConcurrency / n)) };
  });
}

/**
 * Several client processes running the parts of one job. Messages go to all of them; the caller merges what
 * comes back (`all`), since only it knows how a message's figures add up.
 */
export class ClientGroup {
  readonly members: ClientProcess[];

  constructor(jobs: ClientJob[]) {
    this.members = jobs.map((j) => new ClientProcess(j));
  }

  /** The next message of `type` from every member, in member order. */
  all<T = any>(type: string): Promise<T[]> {
    return Promise.all(this.members.map((m) => m.next<T>(type)));
  }

  send(message: unknown): void {
    for (const m of this.members) m.send(message);
  }

  /** Counters summed over the members; p99 the worst member's (a bound, not the merged percentile). */
  get progress(): ClientProgress {
    const counters: Record<string, number> = {};
    let p99: number | undefined;
    for (const m of this.members) {
      for (const [k, v] of Object.entries(m.progress.counters)) counters[k] = (counters[k] ?? 0) + v;
      if (m.progress.p99 !== undefined) p99 = Math.max(p99 ?? 0, m.progress.p99);
    }
    return { counters, p99 };
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.stop()));
  }
}
