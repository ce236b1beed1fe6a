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
  /** New holds waiting per event beyond which more are refused (load shedding); 0 = never. */
  maxQueuedHolds: number;
}

/**
 * Group commit per event. While a batch of one event is in flight on this node, newcomers for that event
 * queue; when it finishes, the next batch takes everything queued (bounded by `maxCommands` and `maxSeats`),
 * books/releases/extends/expiries first, then new holds, and decides them in arrival order. Round trips are paid per
 * batch, not per command, and one event occupies at most one connection of the pool at a time.
 */
export class GroupCommit<R> {
  private readonly lanes = new Map<number, Lane<R>>();
  private seq = 0;

  constructor(
    private readonly opts: GroupCommitOptions,
    /** Runs one batch (one transaction) and settles every command in it. Must not throw. */
    private readonly runBatch: (eventId: number, batch: Pending<R>[]) => Promise<void>,
  ) {}

  /** Queues a command for its event's next batch. Returns false when new holds are being shed. */
  submit(eventId: number, cmd: SeatCommand): Promise<R> | null {
    let lane = this.lanes.get(eventId);
    if (!lane) {
      lane = { first: [], holds: [], running: false };
      this.lanes.set(eventId, lane);
    }
    if (!isPriority(cmd) && this.opts.maxQueuedHolds > 0 && lane.holds.length >= this.opts.maxQueuedHolds) return null;
    const seats = cmd.kind === 'hold' ? cmd.seatIds.length : 1;
    const seq = this.seq++;
    const promise = new Promise<R>((resolve, reject) => (isPriority(cmd) ? lane.first : lane.holds).push({ cmd, seq, seats, resolve, reject }));
    if (!lane.running) void this.drain(eventId, lane);
    return promise;
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
        await this.runBatch(eventId, this.take(lane));
      }
    } finally {
      lane.running = false;
      if (lane.first.length === 0 && lane.holds.length === 0) this.lanes.delete(eventId);
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
