import type { SeatCommand } from './commands';

/** A command waiting for its batch, with the promise its caller awaits. */
export interface Pending<R> {
  cmd: SeatCommand;
  /** Arrival order on this node: a batch is decided in it. */
  seq: number;
  seats: number;
  /** Who sent it (none for the sweeper's expiries): one actor's commands are decided in the order sent. */
  actorId?: number;
  resolve(value: R): void;
  reject(err: unknown): void;
}

/** Commands that finish work already started (book, release, extend, expire) ride ahead of new holds. */
const isPriority = (cmd: SeatCommand) => cmd.kind !== 'hold';

interface Lane<R> {
  first: Pending<R>[];
  holds: Pending<R>[];
  /** Batches started and not yet finished. */
  inFlight: number;
  /** A batch is reading and deciding: the next may not start before it has decided. */
  deciding: boolean;
  /** The next batch's cut is waiting for its turn of the event loop (setImmediate). */
  cutting: boolean;
  /** Commands in batches in flight, by actor (see take). */
  actors: Map<number, number>;
}

export interface GroupCommitOptions {
  /** Most commands decided in one transaction. */
  maxCommands: number;
  /** Most seats one transaction may move (bounds statement size: every seat is a few bindings). */
  maxSeats: number;
  /**
   * Batches of one event in flight at once on this node. Past the first, a batch starts (cuts its commands and
   * sends its reads) only once the batch ahead has decided and sent its writes: its reads then queue in the
   * database behind that batch's locks, not behind its round trip, and see what it wrote. 1 on SQLite, where one
   * connection serialises every transaction anyway. Default 1.
   */
  maxInFlight?: number;
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
 * Group commit per event. While a batch of one event is deciding on this node, newcomers for that event queue;
 * once it has decided (its writes are on their way), the next batch takes everything queued (bounded by
 * `maxCommands` and `maxSeats`), books/releases/extends/expiries first, then new holds, and decides them in
 * arrival order. Round trips are paid per batch, not per command, and one event occupies at most `maxInFlight`
 * connections of the pool at a time.
 *
 * Why the next batch need not wait for the COMMIT: a batch locks, in its reads, every row its writes change (the
 * seats it moves, the holds it ends, its buyers' holder rows). A later batch that reads one of those rows with a
 * lock waits in the database for the COMMIT and then reads what was written; one that reads it without a lock (a
 * seat seen taken) sees it as it was before, as a batch of another node would. The database cannot tell two
 * batches of one node from two nodes' batches, which the design already allows, and the guarantees are the same:
 * a command sent after another was answered sees its effect, one actor's commands are decided in the order sent
 * (see take), and commands of different actors in flight together may be decided in either order. What the
 * pipeline saves is the wait between: the next batch's reads overlap the COMMIT's round trip.
 */
export class GroupCommit<R> {
  private readonly lanes = new Map<number, Lane<R>>();
  private seq = 0;
  /** Moving average of one batch's time on this node (all events), ms; unknown until a batch has run. */
  private batchMs: number | undefined;
  private readonly now: () => number;

  constructor(
    private readonly opts: GroupCommitOptions,
    /**
     * Runs one batch (one transaction) and settles every command in it. Must not throw. Calls `decided` once the
     * batch has decided and its writes are leaving (a retry's second call is ignored; finishing counts too).
     */
    private readonly runBatch: (eventId: number, batch: Pending<R>[], decided: () => void) => Promise<void>,
  ) {
    this.now = opts.now ?? (() => performance.now());
  }

  /** Queues a command for its event's next batch. Returns false when new holds are being shed. */
  submit(eventId: number, cmd: SeatCommand): Promise<R> | null {
    let lane = this.lanes.get(eventId);
    if (!lane) {
      lane = { first: [], holds: [], inFlight: 0, deciding: false, cutting: false, actors: new Map() };
      this.lanes.set(eventId, lane);
    }
    if (!isPriority(cmd) && this.shedding(lane)) return null;
    const seats = cmd.kind === 'hold' ? cmd.seatIds.length : 1;
    const seq = this.seq++;
    const actorId = cmd.kind === 'expire' ? undefined : cmd.actor.id;
    const promise = new Promise<R>((resolve, reject) => (isPriority(cmd) ? lane.first : lane.holds).push({ cmd, seq, seats, actorId, resolve, reject }));
    this.pump(eventId, lane);
    return promise;
  }

  /** Whether a new hold for this lane is refused now: the backstop count, or a wait longer than allowed. */
  private shedding(lane: Lane<R>): boolean {
    if (this.opts.maxQueuedHolds > 0 && lane.holds.length >= this.opts.maxQueuedHolds) return true;
    if (this.opts.maxQueueWaitMs <= 0 || this.batchMs === undefined) return false;
    // An idle lane starts this hold's batch at once: refusing it shortens no queue, and since only a batch updates
    // the estimate, an estimate left high by a slow spell would otherwise refuse every new hold from then on.
    if (lane.inFlight === 0 && lane.first.length + lane.holds.length === 0) return false;
    // The batch in flight, every full batch queued ahead (finishing work first), then the hold's own batch.
    // A lane about to cut its next batch counts as busy too: that cut has one more turn of the event loop to wait.
    const ahead = (lane.inFlight > 0 || lane.cutting ? 1 : 0) + Math.floor((lane.first.length + lane.holds.length) / this.opts.maxCommands) + 1;
    return ahead * this.batchMs > this.opts.maxQueueWaitMs;
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

  /**
   * Starts the lane's next batch if it may: commands are queued, no batch is deciding, and fewer than
   * `maxInFlight` are in flight. The cut waits one turn of the event loop, so the commands that already arrived
   * on sockets and HTTP are read first: with a synchronous driver (better-sqlite3) a batch never yields to I/O,
   * and without this every batch would hold exactly the one command that started it.
   */
  private pump(eventId: number, lane: Lane<R>): void {
    if (lane.cutting || !this.mayStart(lane)) return;
    lane.cutting = true;
    setImmediate(() => {
      lane.cutting = false;
      if (this.mayStart(lane)) this.start(eventId, lane);
      else this.forgetIfIdle(eventId, lane);
    });
  }

  private mayStart(lane: Lane<R>): boolean {
    return !lane.deciding && lane.inFlight < (this.opts.maxInFlight ?? 1) && lane.first.length + lane.holds.length > 0;
  }

  private start(eventId: number, lane: Lane<R>): void {
    const batch = this.take(lane);
    // Everything queued waits for its actor's batch in flight; that batch's end pumps the lane again.
    if (!batch.length) return;
    const actors = batch.flatMap((p) => (p.actorId === undefined ? [] : [p.actorId]));
    for (const id of actors) lane.actors.set(id, (lane.actors.get(id) ?? 0) + 1);
    lane.inFlight++;
    lane.deciding = true;
    let decided = false;
    const onDecided = () => {
      if (decided) return;
      decided = true;
      lane.deciding = false;
      this.pump(eventId, lane);
    };
    const started = this.now();
    void this.runBatch(eventId, batch, onDecided).finally(() => {
      const ms = this.now() - started;
      this.batchMs = this.batchMs === undefined ? ms : this.batchMs + BATCH_TIME_WEIGHT * (ms - this.batchMs);
      lane.inFlight--;
      for (const id of actors) {
        const n = lane.actors.get(id)! - 1;
        if (n) lane.actors.set(id, n);
        else lane.actors.delete(id);
      }
      onDecided();
      this.pump(eventId, lane);
      this.forgetIfIdle(eventId, lane);
    });
  }

  private forgetIfIdle(eventId: number, lane: Lane<R>): void {
    if (lane.inFlight === 0 && !lane.cutting && lane.first.length === 0 && lane.holds.length === 0) this.lanes.delete(eventId);
  }

  /**
   * The next batch: finishing work first, then new holds, within the caps, decided in arrival order. A command
   * whose actor has a command in a batch still in flight stays queued for a later batch, so one buyer's (or one
   * box-office clerk's) commands are decided in the order they were sent, each against what the one before it
   * wrote: a buyer who releases and at once holds elsewhere is not refused for a limit the release has freed.
   */
  private take(lane: Lane<R>): Pending<R>[] {
    const batch: Pending<R>[] = [];
    let seats = 0;
    let full = false;
    for (const queue of [lane.first, lane.holds]) {
      const skipped: Pending<R>[] = [];
      let i = 0;
      for (; i < queue.length && !full; i++) {
        const next = queue[i]!;
        if (next.actorId !== undefined && lane.actors.has(next.actorId)) {
          skipped.push(next);
          continue;
        }
        if (batch.length >= this.opts.maxCommands || (batch.length > 0 && seats + next.seats > this.opts.maxSeats)) {
          full = true;
          break;
        }
        batch.push(next);
        seats += next.seats;
      }
      queue.splice(0, i, ...skipped);
    }
    // Taken priority-first (so finishing work never waits behind a full lane of new holds), decided in arrival order.
    return batch.sort((a, b) => a.seq - b.seq);
  }
}
