import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ClientJob } from './client-worker';

/**
 * A client thread running one ClientJob (see client-worker.ts). The worker loads TypeScript through tsx's
 * require hook, so this works under `tsx` (the CLI) and under jest alike.
 */
export class ClientThread {
  private readonly worker: Worker;
  /** Messages received and not yet asked for, by type. */
  private readonly inbox = new Map<string, unknown[]>();
  private readonly waiters = new Map<string, { resolve: (m: unknown) => void; reject: (e: Error) => void }[]>();
  private failure?: Error;
  /** The latest progress message. */
  progress: { counters: Record<string, number>; p99?: number } = { counters: {} };

  constructor(job: ClientJob) {
    const file = join(__dirname, 'client-worker.ts');
    this.worker = new Worker(`require('tsx/cjs'); require(${JSON.stringify(file)});`, { eval: true, workerData: job });
    this.worker.on('message', (m: { type: string; message?: string }) => {
      if (m.type === 'progress') {
        this.progress = m as never;
        return;
      }
      if (m.type === 'error') return this.fail(new Error(`client thread failed: ${m.message}`));
      const w = this.waiters.get(m.type)?.shift();
      if (w) w.resolve(m);
      else this.inbox.set(m.type, [...(this.inbox.get(m.type) ?? []), m]);
    });
    this.worker.on('error', (err) => this.fail(err));
  }

  private fail(err: Error): void {
    this.failure = err;
    for (const list of this.waiters.values()) for (const w of list.splice(0)) w.reject(err);
  }

  /** Resolves with the next message of `type` (one that arrived before the call counts too). */
  next<T = any>(type: string): Promise<T> {
    const queued = this.inbox.get(type);
    if (queued?.length) return Promise.resolve(queued.shift() as T);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      this.waiters.set(type, [...(this.waiters.get(type) ?? []), { resolve: resolve as (m: unknown) => void, reject }]);
    });
  }

  send(message: unknown): void {
    this.worker.postMessage(message);
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}
