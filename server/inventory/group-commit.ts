import type { SeatCommand } from './commands';

/** A command waiting for its batch, with the promise its caller awaits. */
export interface Pending<R> {
  cmd: SeatCommand;
  /** Arrival order on this node: a batch is decided in it. */
  seq: number;
  seats: number;
  resolve(value: R): void;
  reject(err: unknown): void;
}

/** Commands that finish work already started (book, release, extend, expire) ride ahead of new holds. */
const isPriority = (cmd: SeatCommand) => cmd.kind !== 'hold';

interface Lane<R> {
  first: Pending<R>[];
  holds: Pending<R>[];
  running: boolean;
}

export interface GroupCommitOptions {
  /** Most commands decided in one transaction. */
  maxCommands: number;
  /** Most seats one transaction may move (bounds statement size: every seat is a few bindings). */
  maxSeats: number;
  /** New holds waiting per event beyond which more are refused, whatever the batches' speed (a backstop); 0 = never. */
  maxQueuedHolds: number;
  /**
   * A new hold is refused when its expected wait (the batches ahead of it times the recent batch time) is longer
   * than this, in ms; 0 = never. A refused buyer comes back after Retry-After (1 s), so queueing is the better
   * answer whenever the batches would decide the hold sooner: a fixed count sheds a burst that fast batches
   * would clear in a fraction of a second, and admits one that slow batches would not.
   */
  maxQueueWaitMs: number;
  /** Milliseconds, for timing batches (default performance.now); tests move it by hand. */
  now?: () => number;
}

/** Weight of the newest batch in the batch-time average: a few batches are enough to follow a change of pace. */
const BATCH_TIME_WEIGHT = 0.2;

/**
 * A node's first batches, its warm-up. A fresh process's first batches run 1.5-3x slower than those a moment later
 * (code still being compiled, the opening burst on the event loop). With one of them as the whole estimate a node
 * refused, during its second batch, hundreds of holds that the batches after it decided in about half the limit,
 * and an average seeded with it stayed high for several batches more (load/README.md, issue 17, "the shedding
 * estimate's first batches"). So until this many batches are timed, the estimate is the median of those timed and
 * a hold is refused only past twice the limit; the average then starts from their median. A node that is really
 * that slow is still protected: twice the limit, and the count backstop, hold.
 */
const WARM_UP_BATCHES = 3;

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/**
 * Group commit per event. While a batch of one event is in flight on this node, newcomers for that event
 * queue; when it finishes, the next batch takes everything queued (bounded by `maxCommands` and `maxSeats`),
 * books/releases/extends/expiries first, then new holds, and decides them in arrival order. Round trips are paid per
 * batch, not per command, and one event occupies at most one connection of the pool at a time.
 */
export class GroupCommit<R> {
  private readonly lanes = new Map<number, Lane<R>>();
  private seq = 0;
  /** Moving average of one batch's time on this node (all events), ms; unknown until a batch has run. */
  private batchMs: number | undefined;
  /** The times of the node's first batches, up to WARM_UP_BATCHES of them. */
  private readonly warmUp: number[] = [];
  private readonly now: () => number;

  constructor(
    private readonly opts: GroupCommitOptions,
    /** Runs one batch (one transaction) and settles every command in it. Must not throw. */
    private readonly runBatch: (eventId: number, batch: Pending<R>[]) => Promise<void>,
  ) {
    this.now = opts.now ?? (() => performance.now());
  }

  /** Queues a command for its event's next batch. Returns false when new holds are being shed. */
  submit(eventId: number, cmd: SeatCommand): Promise<R> | null {
    let lane = this.lanes.get(eventId);
    if (!lane) {
      lane = { first: [], holds: [], running: false };
      this.lanes.set(eventId, lane);
    }
    if (!isPriority(cmd) && this.shedding(lane)) return null;
    const seats = cmd.kind === 'hold' ? cmd.seatIds.length : 1;
    const seq = this.seq++;
    const promise = new Promise<R>((resolve, reject) => (isPriority(cmd) ? lane.first : lane.holds).push({ cmd, seq, seats, resolve, reject }));
    if (!lane.running) void this.drain(eventId, lane);
    return promise;
  }

  /** Whether a new hold for this lane is refused now: the backstop count, or a wait longer than allowed. */
  private shedding(lane: Lane<R>): boolean {
    if (this.opts.maxQueuedHolds > 0 && lane.holds.length >= this.opts.maxQueuedHolds) return true;
    if (this.opts.maxQueueWaitMs <= 0 || this.batchMs === undefined) return false;
    // An idle lane starts this hold's batch at once: refusing it shortens no queue, and since only a batch updates
    // the estimate, an estimate left high by a slow spell would otherwise refuse every new hold from then on.
    if (!lane.running && lane.first.length + lane.holds.length === 0) return false;
    // The batch in flight, every full batch queued ahead (finishing work first), then the hold's own batch.
    const ahead = (lane.running ? 1 : 0) + Math.floor((lane.first.length + lane.holds.length) / this.opts.maxCommands) + 1;
    const limit = this.warmUp.length < WARM_UP_BATCHES ? 2 * this.opts.maxQueueWaitMs : this.opts.maxQueueWaitMs;
    return ahead * this.batchMs > limit;
  }

  /** The recent batch time this node sheds by (ms), if a batch has run: metrics and tests. */
  recentBatchMs(): number | undefined {
    return this.batchMs;
  }

  /** Commands queued (not yet in a batch) for an event: metrics and tests. */
  queued(eventId: number): number {
    const lane = this.lanes.get(eventId);
    return lane ? lane.first.length + lane.holds.length : 0;
  }

  /** True while any event has a batch in flight or commands queued. */
  busy(): boolean {
    return this.lanes.size > 0;
  }

  private async drain(eventId: number, lane: Lane<R>): Promise<void> {
    lane.running = true;
    try {
      while (lane.first.length || lane.holds.length) {
        // Let the commands that already arrived on sockets and HTTP be read before the batch is cut. With a
        // synchronous driver (better-sqlite3) a batch never yields to I/O, so without this every batch would hold
        // exactly the one command that started it; with MySQL the batch's own round trips already do this.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const started = this.now();
        await this.runBatch(eventId, this.take(lane));
        this.timeBatch(this.now() - started);
      }
    } finally {
      lane.running = false;
      if (lane.first.length === 0 && lane.holds.length === 0) this.lanes.delete(eventId);
    }
  }

  /** Folds one batch's time into the estimate: the warm-up's median, then the moving average from it. */
  private timeBatch(ms: number): void {
    if (this.warmUp.length < WARM_UP_BATCHES) {
      this.warmUp.push(ms);
      this.batchMs = median(this.warmUp);
    } else {
      this.batchMs = this.batchMs! + BATCH_TIME_WEIGHT * (ms - this.batchMs!);
    }
  }

  private take(lane: Lane<R>): Pending<R>[] {
    const batch: Pending<R>[] = [];
    let seats = 0;
    for (const queue of [lane.first, lane.holds]) {
      while (queue.length && batch.length < this.opts.maxCommands) {
        const next = queue[0]!;
        if (batch.length > 0 && seats + next.seats > this.opts.maxSeats) return batch.sort((a, b) => a.seq - b.seq);
        batch.push(queue.shift()!);
        seats += next.seats;
      }
    }
    // Taken priority-first (so finishing work never waits behind a full lane of new holds), decided in arrival order.
    return batch.sort((a, b) => a.seq - b.seq);
  }
}
