/**
 * The least a hold must do, one transaction per command, on bare mysql2: the baseline that says whether the
 * hot-seat target at few contenders is out of reach for any server that records holds, or only for Evently's design.
 *
 * The raw compare-and-set (baselines-cas.ts) changes one row and records nothing. A hold must also read the
 * buyer's live holds (the per-user limit), create the hold and write the change that live clients and the audit
 * read, all in one transaction; its release must end the hold and write a change too. Here each of those is
 * done in the fewest round trips MySQL allows: BEGIN rides with the reads (the seat locked), COMMIT with the
 * writes. That is 2 round trips per command, where Evently's batch has 4, and nothing else: no event rules, no
 * holder row, no outbox, no sockets. Workers run side by side, each command a transaction on a connection of a
 * pool the raw compare-and-set's size, so nothing is serialised but what the rows and the pool force.
 */
import type mysql from 'mysql2/promise';
import { baselinePool } from './baseline-pool';
import type { CasResult } from './baselines-cas';
import { Latency, now, type LatencySummary } from './stats';

/**
 * The raw compare-and-set's result shape, where `attempts` are hold transactions (every one decided: won or seat
 * taken) and `latency` is theirs (a won hold's release is not in it).
 */
export type HoldTxResult = Omit<CasResult, 'conflicts' | 'conflictsPerS' | 'roundTripsPerAttempt'> & {
  /** Round trips per command: 2 (BEGIN + reads, writes + COMMIT; a loser's second is its ROLLBACK). */
  roundTripsPerCommand: number;
};

/**
 * `concurrency` workers in closed loops over `rows` seats for `durationMs`, like hot-seat's buyers: hold a random
 * seat; if it was free, release it. Scratch tables of this process, dropped at the end.
 */
export async function holdTxBaseline(databaseUrl: string, o: { concurrency: number; connections: number; rows: number; durationMs: number }): Promise<HoldTxResult> {
  const pool = baselinePool(databaseUrl, o.connections, { multipleStatements: true });
  const { seats, holds, changes, drop } = await holdTables(pool, o.rows);

  type Conn = mysql.PoolConnection;
  /** Hold: returns the new hold's id, or undefined when the seat was taken. */
  const hold = async (c: Conn, userId: number, seatId: number): Promise<number | undefined> => {
    const [read] = (await c.query(
      `BEGIN; SELECT COUNT(*) AS n FROM ${holds} WHERE user_id = ? AND status = 'active'; SELECT v, status FROM ${seats} WHERE id = ? FOR UPDATE`,
      [userId, seatId],
    )) as unknown as [[unknown, unknown, { v: number; status: string }[]]];
    const seat = read[2][0]!;
    if (seat.status !== 'available') {
      await c.query('ROLLBACK');
      return undefined;
    }
    const t = Date.now();
    const [wrote] = (await c.query(
      `INSERT INTO ${holds} (user_id, status, created_at) VALUES (?, 'active', ?);
       UPDATE ${seats} SET v = v + 1, status = 'held', hold_id = LAST_INSERT_ID() WHERE id = ? AND v = ?;
       INSERT INTO ${changes} (seat_id, version, to_status, hold_id, created_at) VALUES (?, ?, 'held', LAST_INSERT_ID(), ?);
       COMMIT`,
      [userId, t, seatId, seat.v, seatId, seat.v + 1, t],
    )) as unknown as [{ insertId: number }[]];
    return wrote[0]!.insertId;
  };
  const release = async (c: Conn, seatId: number, holdId: number): Promise<void> => {
    const [read] = (await c.query(`BEGIN; SELECT v FROM ${seats} WHERE id = ? FOR UPDATE; SELECT status FROM ${holds} WHERE id = ? FOR UPDATE`, [
      seatId,
      holdId,
    ])) as unknown as [[unknown, { v: number }[], unknown]];
    const v = read[1][0]!.v;
    await c.query(
      `UPDATE ${seats} SET v = v + 1, status = 'available', hold_id = NULL WHERE id = ? AND v = ?;
       UPDATE ${holds} SET status = 'released' WHERE id = ?;
       INSERT INTO ${changes} (seat_id, version, to_status, hold_id, created_at) VALUES (?, ?, 'available', ?, ?);
       COMMIT`,
      [seatId, v, holdId, seatId, v + 1, holdId, Date.now()],
    );
  };

  // A connection per command, as the raw compare-and-set takes one per attempt: the wait for one is in the latency.
  const withConnection = async <T>(f: (c: Conn) => Promise<T>): Promise<T> => {
    const c = await pool.getConnection();
    try {
      return await f(c);
    } finally {
      c.release();
    }
  };
  try {
    const loops = await holdReleaseLoops(
      o,
      (userId, seatId) => withConnection((c) => hold(c, userId, seatId)),
      (seatId, holdId) => withConnection((c) => release(c, seatId, holdId)),
    );
    return { concurrency: o.concurrency, connections: o.connections, rows: o.rows, ...loops, roundTripsPerCommand: 2 };
  } finally {
    await drop();
    await pool.end();
  }
}

/** What holdReleaseLoops measured: every hold decided (won or seat taken), and its latency (not the releases'). */
export interface LoopsResult {
  durationS: number;
  attempts: number;
  successes: number;
  attemptsPerS: number;
  successesPerS: number;
  latency: LatencySummary;
}

/**
 * hot-seat's contenders with no socket, for the raw hold baselines: `concurrency` closed loops for `durationMs`,
 * each holding a random one of `rows` seats as its own buyer (user id = loop + 1) and, when it won, releasing it.
 * `hold` answers the new hold's id, or undefined when the seat was taken.
 */
export async function holdReleaseLoops(
  o: { concurrency: number; rows: number; durationMs: number },
  hold: (userId: number, seatId: number) => Promise<number | undefined>,
  release: (seatId: number, holdId: number) => Promise<void>,
): Promise<LoopsResult> {
  const latency = new Latency();
  let attempts = 0;
  let successes = 0;
  const started = now();
  const deadline = started + o.durationMs;
  await Promise.all(
    Array.from({ length: o.concurrency }, async (_, loop) => {
      while (now() < deadline) {
        const seatId = 1 + Math.floor(Math.random() * o.rows);
        const t0 = now();
        const holdId = await hold(loop + 1, seatId);
        latency.recordMs(now() - t0);
        attempts++;
        if (holdId === undefined) continue;
        successes++;
        await release(seatId, holdId);
      }
    }),
  );
  const durationS = (now() - started) / 1000;
  return { durationS, attempts, successes, attemptsPerS: attempts / durationS, successesPerS: successes / durationS, latency: latency.summary() };
}

/**
 * The scratch tables of the raw hold baselines (this one and baselines-group-tx.ts): `rows` free seats, holds with
 * the per-user index the limit reads, and changes. Named for this process; `drop` removes them.
 */
export async function holdTables(pool: mysql.Pool, rows: number): Promise<{ seats: string; holds: string; changes: string; drop(): Promise<void> }> {
  const [seats, holds, changes] = ['seats', 'holds', 'changes'].map((t) => `load_holdtx_${t}_${process.pid}`);
  await pool.query(`DROP TABLE IF EXISTS ${seats}, ${holds}, ${changes}`);
  await pool.query(`CREATE TABLE ${seats} (id INT PRIMARY KEY, v INT NOT NULL, status VARCHAR(16) NOT NULL, hold_id BIGINT NULL) ENGINE=InnoDB`);
  await pool.query(
    `CREATE TABLE ${holds} (id BIGINT AUTO_INCREMENT PRIMARY KEY, user_id INT NOT NULL, status VARCHAR(16) NOT NULL, created_at BIGINT NOT NULL, KEY (user_id, status)) ENGINE=InnoDB`,
  );
  await pool.query(
    `CREATE TABLE ${changes} (id BIGINT AUTO_INCREMENT PRIMARY KEY, seat_id INT NOT NULL, version INT NOT NULL, to_status VARCHAR(16) NOT NULL, hold_id BIGINT NULL, created_at BIGINT NOT NULL, KEY (seat_id)) ENGINE=InnoDB`,
  );
  await pool.query(`INSERT INTO ${seats} (id, v, status) VALUES ${Array.from({ length: rows }, (_, i) => `(${i + 1}, 1, 'available')`).join(',')}`);
  return { seats, holds, changes, drop: async () => void (await pool.query(`DROP TABLE IF EXISTS ${seats}, ${holds}, ${changes}`)) };
}
