/**
 * The embedded database's WAL checkpoints, run on a thread of their own.
 *
 * SQLite in WAL mode appends each commit to the write-ahead log, and by default the connection that commits past
 * 1,000 pages of log copies them back into the database file and syncs it, inside that COMMIT. better-sqlite3 is
 * synchronous, so that is the node's event loop stopped: in a hot-seat run on SQLite one COMMIT in ~40 took 2-36 ms
 * (7.8 ms on average), half of all the time spent in COMMIT and ~7% of the node's thread (load/README.md, "a batch's
 * plans on SQLite, and checkpoints off the event loop"). Here a worker thread with its own connection to the same
 * file runs PASSIVE checkpoints, which never block the writer, every {@link CHECKPOINT_EVERY_COMMITS} commits; the
 * node's connection keeps its own automatic checkpoint only as a backstop ({@link BACKSTOP_PAGES}), should the
 * worker fall behind or fail.
 */
import { Worker } from 'node:worker_threads';

/** Commits on the node's connection between two checkpoint requests (SQLite's own default is ~every 40 here). */
export const CHECKPOINT_EVERY_COMMITS = 32;

/** Pages of log past which the node's own connection checkpoints anyway (`wal_autocheckpoint`; ~40 MB at 4 KB). */
export const BACKSTOP_PAGES = 10_000;

/** What the checkpoints have done so far: metrics and tests. */
export interface CheckpointStats {
  /** Checkpoints run by the worker. */
  checkpoints: number;
  /** Log frames they copied into the database file. */
  frames: number;
  /** Checkpoints that failed (the backstop covers them). */
  failures: number;
}

// Plain JavaScript, evaluated in the worker: it runs the same under tsx, Jest and the compiled build.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.filename);
db.pragma('busy_timeout = 1000');
db.pragma('synchronous = NORMAL');
parentPort.on('message', (m) => {
  if (m === 'stop') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true, checkpointed: r.checkpointed });
  } catch (err) {
    parentPort.postMessage({ ok: false, error: String(err) });
  }
});
`;

/** Asks a worker thread to checkpoint one database file's WAL, one checkpoint at a time. */
export class WalCheckpointer {
  readonly stats: CheckpointStats = { checkpoints: 0, frames: 0, failures: 0 };
  private worker: Worker | undefined;
  private commits = 0;
  private running = false;
  private again = false;
  private idleWaiters: (() => void)[] = [];
  private stopped = false;

  constructor(
    private readonly filename: string,
    private readonly everyCommits = CHECKPOINT_EVERY_COMMITS,
  ) {}

  /** Counts a commit of the node's connection; every `everyCommits`, asks for a checkpoint. */
  committed(): void {
    if (++this.commits % this.everyCommits === 0) this.request();
  }

  /** Asks for a checkpoint now (one follows the one running, if any). */
  request(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.start().postMessage('checkpoint');
  }

  /** Resolves once no checkpoint is running or asked for: tests. */
  idle(): Promise<void> {
    return this.running ? new Promise((resolve) => this.idleWaiters.push(resolve)) : Promise.resolve();
  }

  /** Ends the worker (its connection closed first); no checkpoint is asked for after. */
  async stop(): Promise<void> {
    this.stopped = true;
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('stop');
    // A checkpoint in its last fsync still ends in well under this; past it the thread is ended as it stands.
    const timer = setTimeout(() => void worker.terminate(), 2_000);
    await exited;
    clearTimeout(timer);
    this.running = false;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { filename: this.filename, driver: require.resolve('better-sqlite3') } });
    // Never what keeps a process alive: a node that ends without stop() loses nothing (the log is the database's).
    worker.unref();
    worker.on('message', (m: { ok: boolean; checkpointed?: number }) => {
      if (m.ok) {
        this.stats.checkpoints++;
        this.stats.frames += Math.max(0, m.checkpointed ?? 0);
      } else this.stats.failures++;
      this.settle();
    });
    worker.on('error', () => {
      // The thread is gone; the next request starts another, and the backstop checkpoints meanwhile.
      this.stats.failures++;
      this.worker = undefined;
      this.settle();
    });
    this.worker = worker;
    return worker;
  }

  private settle(): void {
    this.running = false;
    if (this.again && !this.stopped) {
      this.again = false;
      this.request();
      return;
    }
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
