/**
 * The issue's own design on bare mysql2: hot-seat's commands group-committed per event, one transaction per batch
 * of whatever arrived while the batch ahead ran, with nothing else around them. It says what group commit itself
 * can reach on this machine, next to the raw compare-and-set (one row, records nothing) and the raw hold
 * transactions (one transaction per command, side by side): the ceiling of Evently's batches without its
 * sockets, validation, rules and broadcasts.
 *
 * A batch is the fewest round trips a batch can be: BEGIN rides with the reads (the buyers' live holds for the
 * limit, the seats and the holds released, locked in key order), the commands are decided in memory in arrival
 * order, and COMMIT rides with the writes (the new holds, one compare-and-set UPDATE over every changed seat, the
 * changes, the ended holds). One batch is in flight at a time, as in an Evently node's lane: the next starts when
 * the one ahead has committed, one turn of the event loop later.
 */
import type mysql from 'mysql2/promise';
import { SEAT_BATCH_DEFAULTS } from '../server/config';
import { baselinePool } from './baseline-pool';
import { holdReleaseLoops, holdTables, type HoldTxResult } from './baselines-hold-tx';

export type GroupTxResult = Omit<HoldTxResult, 'roundTripsPerCommand'> & {
  batches: number;
  /** Commands (holds and releases) per batch, on average. */
  commandsPerBatch: number;
  /** Whole batches run again after a deadlock or lock wait timeout. */
  retries: number;
};

export type GroupRequest = { kind: 'hold'; userId: number; seatId: number } | { kind: 'release'; seatId: number; holdId: number };
/** `done` answers the hold's id (undefined: the seat was taken, or a release of a hold no longer there); `fail` ends the run. */
type Command = GroupRequest & { done(holdId: number | undefined): void; fail(err: unknown): void };

/** Most commands one batch decides, as Evently's default (SEAT_BATCH_MAX_COMMANDS). */
const MAX_BATCH = SEAT_BATCH_DEFAULTS.maxCommands;
const RETRYABLE = new Set([1213, 1205]);

/** How a batcher cuts its next batch once the one ahead has committed. */
export interface CutPolicy {
  /**
   * Wait before the cut until this many commands are queued, or `maxWaitMs` have passed since the batch ahead ended
   * (unset: cut one turn of the event loop after it, as an Evently node does). For closed-loop clients behind
   * sockets, as many as there are clients is every command there can be: each batch is as full as it can get.
   */
  gather?: { commands: number; maxWaitMs: number };
}

/** A running batcher over the scratch tables: `submit` queues a command for the next batch. */
export interface GroupBatcher {
  /** Resolves with the hold's id (a hold won, a release done), or undefined (the seat was taken, the hold gone). */
  submit(cmd: GroupRequest): Promise<number | undefined>;
  counts(): { batches: number; decided: number; retries: number };
}

/**
 * The group commit of these baselines on `pool` (one connection: one batch in flight, as in an Evently node's lane)
 * over `tables` (holdTables), which it must have to itself: it numbers the holds it inserts. A failed batch rejects its
 * commands; the caller ends the run.
 */
export function groupBatcher(pool: mysql.Pool, tables: { seats: string; holds: string; changes: string }, policy: CutPolicy = {}): GroupBatcher {
  const { seats, holds, changes } = tables;
  let nextHoldId = 1;
  let batches = 0;
  let decided = 0;
  let retries = 0;

  /** One batch, one transaction. Returns each command's answer. */
  const run = async (c: mysql.PoolConnection, batch: Command[]): Promise<(number | undefined)[]> => {
    const seatIds = [...new Set(batch.map((b) => b.seatId))].sort((a, b) => a - b);
    const userIds = [...new Set(batch.flatMap((b) => (b.kind === 'hold' ? [b.userId] : [])))];
    const released = [...new Set(batch.flatMap((b) => (b.kind === 'release' ? [b.holdId] : [])))].sort((a, b) => a - b);
    const [read] = (await c.query(
      `BEGIN;
       SELECT user_id, COUNT(*) AS n FROM ${holds} WHERE user_id IN (?) AND status = 'active' GROUP BY user_id;
       SELECT id, v, status, hold_id FROM ${seats} WHERE id IN (?) ORDER BY id FOR UPDATE;
       SELECT id, status FROM ${holds} WHERE id IN (?) ORDER BY id FOR UPDATE`,
      [userIds.length ? userIds : [0], seatIds, released.length ? released : [0]],
    )) as unknown as [[unknown, unknown, { id: number; v: number; status: string; hold_id: number | null }[], unknown]];
    const state = new Map(read[2].map((r) => [r.id, { v0: r.v, v: r.v, status: r.status, holdId: r.hold_id }]));
    const t = Date.now();
    const newHolds: unknown[][] = [];
    const changeRows: unknown[][] = [];
    const ended: number[] = [];
    const answers = batch.map((b) => {
      const seat = state.get(b.seatId)!;
      if (b.kind === 'hold') {
        if (seat.status !== 'available') return undefined;
        const id = nextHoldId++;
        Object.assign(seat, { v: seat.v + 1, status: 'held', holdId: id });
        newHolds.push([id, b.userId, 'active', t]);
        changeRows.push([b.seatId, seat.v, 'held', id, t]);
        return id;
      }
      if (seat.holdId !== b.holdId) return undefined;
      Object.assign(seat, { v: seat.v + 1, status: 'available', holdId: null });
      ended.push(b.holdId);
      changeRows.push([b.seatId, seat.v, 'available', b.holdId, t]);
      return b.holdId;
    });
    const changed = [...state].filter(([, s]) => s.v !== s.v0);
    if (!changed.length) {
      await c.query('COMMIT');
      return answers;
    }
    const rowsSql = changed.map(() => 'SELECT ? AS id, ? AS v0, ? AS v1, ? AS st, ? AS h').join(' UNION ALL ');
    const sql = [
      newHolds.length ? `INSERT INTO ${holds} (id, user_id, status, created_at) VALUES ?` : '',
      `UPDATE ${seats} s JOIN (${rowsSql}) n ON s.id = n.id AND s.v = n.v0 SET s.v = n.v1, s.status = n.st, s.hold_id = n.h`,
      `INSERT INTO ${changes} (seat_id, version, to_status, hold_id, created_at) VALUES ?`,
      ended.length ? `UPDATE ${holds} SET status = 'released' WHERE id IN (?)` : '',
      'COMMIT',
    ].filter(Boolean);
    const params = [
      ...(newHolds.length ? [newHolds] : []),
      ...changed.flatMap(([id, s]) => [id, s.v0, s.v, s.status, s.holdId]),
      changeRows,
      ...(ended.length ? [ended] : []),
    ];
    const [wrote] = (await c.query(sql.join(';\n'), params)) as unknown as [{ affectedRows: number }[]];
    const cas = wrote[newHolds.length ? 1 : 0]!;
    // The seats were locked since the reads, so every compare-and-set must hold; anything else is a bug here.
    if (cas.affectedRows !== changed.length) throw new Error(`group baseline: ${cas.affectedRows} of ${changed.length} seats changed`);
    return answers;
  };

  const queue: Command[] = [];
  let running = false;
  let cutScheduled = false;
  /** When the batch ahead ended (or an idle batcher got its first command): a gathering cut waits from here. */
  let gatherFrom = 0;
  let gatherTimer: NodeJS.Timeout | undefined;
  const runWithRetry = async (batch: Command[]): Promise<void> => {
    const c = await pool.getConnection();
    try {
      for (;;) {
        try {
          const answers = await run(c, batch);
          batches++;
          decided += batch.length;
          batch.forEach((b, i) => b.done(answers[i]));
          return;
        } catch (err) {
          await c.query('ROLLBACK').catch(() => undefined);
          if (!RETRYABLE.has((err as { errno?: number }).errno ?? 0)) throw err;
          retries++;
        }
      }
    } finally {
      c.release();
    }
  };
  /** Cuts the next batch, unless the policy gathers and more commands are due (then a timer or `submit` cuts). */
  const cut = (): void => {
    const g = policy.gather;
    if (g && queue.length < g.commands) {
      const left = gatherFrom + g.maxWaitMs - performance.now();
      if (left > 0) {
        gatherTimer ??= setTimeout(() => {
          gatherTimer = undefined;
          cut();
        }, left);
        return;
      }
    }
    clearTimeout(gatherTimer);
    gatherTimer = undefined;
    cutScheduled = false;
    const batch = queue.splice(0, MAX_BATCH);
    running = true;
    runWithRetry(batch)
      // Not a race lost: a broken baseline must fail the run, not count as seats taken.
      .catch((err: unknown) => batch.forEach((b) => b.fail(err)))
      .finally(() => {
        running = false;
        gatherFrom = performance.now();
        pump();
      });
  };
  /** Cuts the next batch once the one ahead has committed, after the commands already on their way have arrived. */
  const pump = (): void => {
    if (cutScheduled || running || !queue.length) return;
    cutScheduled = true;
    setImmediate(cut);
  };
  return {
    submit: (cmd) =>
      new Promise((done, fail) => {
        if (!running && !cutScheduled && !queue.length) gatherFrom = performance.now();
        queue.push({ ...cmd, done, fail });
        if (gatherTimer && queue.length >= policy.gather!.commands) cut();
        else pump();
      }),
    counts: () => ({ batches, decided, retries }),
  };
}

/**
 * `concurrency` workers in closed loops over `rows` seats for `durationMs`, as in holdTxBaseline (hold a random
 * seat; if it was free, release it), their commands decided in batches. Scratch tables, dropped at the end.
 */
export async function groupTxBaseline(databaseUrl: string, o: { concurrency: number; rows: number; durationMs: number }): Promise<GroupTxResult> {
  const pool = baselinePool(databaseUrl, 1, { multipleStatements: true });
  const tables = await holdTables(pool, o.rows);
  const batcher = groupBatcher(pool, tables);
  try {
    const loops = await holdReleaseLoops(
      o,
      (userId, seatId) => batcher.submit({ kind: 'hold', userId, seatId }),
      async (seatId, holdId) => void (await batcher.submit({ kind: 'release', seatId, holdId })),
    );
    const { batches, decided, retries } = batcher.counts();
    return {
      concurrency: o.concurrency,
      connections: 1,
      rows: o.rows,
      ...loops,
      batches,
      commandsPerBatch: batches ? decided / batches : 0,
      retries,
    };
  } finally {
    await tables.drop();
    await pool.end();
  }
}
