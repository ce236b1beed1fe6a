/** Compare-and-set baselines: the same seat write as the server, on bare mysql2, bare better-sqlite3 and knex over SQLite, with no server around it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import knexFactory from 'knex';
import { baselinePool } from './baseline-pool';
import { Latency, now, type LatencySummary } from './stats';

export interface CasResult {
  concurrency: number;
  connections: number;
  rows: number;
  durationS: number;
  attempts: number;
  successes: number;
  conflicts: number;
  attemptsPerS: number;
  successesPerS: number;
  conflictsPerS: number;
  /** Round trips per attempt: BEGIN, UPDATE, COMMIT (+ a SELECT after each conflict to learn the version). On SQLite: statements. */
  roundTripsPerAttempt: number;
  latency: LatencySummary;
}

/**
 * The database's own limit for what a hold does at its core: version-checked single-row UPDATE transactions
 * through bare mysql2 (`BEGIN; UPDATE t SET v=v+1 WHERE id=? AND v=?; COMMIT`) on a scratch table, by
 * `concurrency` workers sharing `connections` connections (the same as the server nodes' pools together).
 * Workers know versions the way clients do (from their own successes, and a re-read after a conflict).
 */
export async function casBaseline(databaseUrl: string, o: { concurrency: number; connections: number; rows: number; durationMs: number; hotShare?: number }): Promise<CasResult> {
  const p = baselinePool(databaseUrl, o.connections);
  const table = `load_cas_scratch_${process.pid}`;
  await p.query(`DROP TABLE IF EXISTS ${table}`);
  await p.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB`);
  for (let i = 0; i < o.rows; i += 1000) {
    const vals = Array.from({ length: Math.min(1000, o.rows - i) }, (_, j) => `(${i + j + 1}, 1)`).join(',');
    await p.query(`INSERT INTO ${table} (id, v) VALUES ${vals}`);
  }
  const result = await casWorkers(o, async (id, v) => {
    const conn = await p.getConnection();
    try {
      await conn.query('BEGIN');
      const [res] = await conn.query(`UPDATE ${table} SET v = v + 1 WHERE id = ? AND v = ?`, [id, v]);
      await conn.query('COMMIT');
      if ((res as { affectedRows: number }).affectedRows === 1) return { changed: true };
      const [rows] = await conn.query(`SELECT v FROM ${table} WHERE id = ?`, [id]);
      return { changed: false, current: (rows as { v: number }[])[0]!.v };
    } finally {
      conn.release();
    }
  });
  await p.query(`DROP TABLE IF EXISTS ${table}`);
  await p.end();
  return { concurrency: o.concurrency, connections: o.connections, rows: o.rows, ...result };
}

/**
 * `concurrency` async workers racing version-checked updates on `rows` rows for `durationMs`: each picks a row
 * and the version it knows (its own successes, a re-read after a conflict, shared like the mysql2 workers'),
 * then calls `attempt`, which reports whether the row changed or, after a conflict, the current version.
 */
async function casWorkers(
  o: { concurrency: number; rows: number; durationMs: number },
  attempt: (id: number, v: number) => Promise<{ changed: true } | { changed: false; current: number }>,
): Promise<Omit<CasResult, 'concurrency' | 'connections' | 'rows'>> {
  const known = new Map<number, number>();
  for (let id = 1; id <= o.rows; id++) known.set(id, 1);
  const latency = new Latency();
  let attempts = 0;
  let successes = 0;
  let conflicts = 0;
  const started = now();
  const deadline = started + o.durationMs;
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (now() < deadline) {
        const id = 1 + Math.floor(Math.random() * o.rows);
        const v = known.get(id)!;
        const t0 = now();
        const r = await attempt(id, v);
        attempts++;
        if (r.changed) {
          successes++;
          if ((known.get(id) ?? 0) <= v) known.set(id, v + 1);
        } else {
          conflicts++;
          known.set(id, r.current);
        }
        latency.recordMs(now() - t0);
      }
    }),
  );
  const durationS = (now() - started) / 1000;
  return {
    durationS,
    attempts,
    successes,
    conflicts,
    attemptsPerS: attempts / durationS,
    successesPerS: successes / durationS,
    conflictsPerS: conflicts / durationS,
    // BEGIN, UPDATE, COMMIT, + the SELECT after each conflict.
    roundTripsPerAttempt: attempts ? (3 * attempts + conflicts) / attempts : 0,
    latency: latency.summary(),
  };
}

/** The server's SQLite pragmas (server/db/knex.ts) on a fresh scratch file with the `cas` table of `rows` rows. */
function scratchSqlite(rows: number): { file: string; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'evently-cas-'));
  const file = join(dir, 'cas.sqlite');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE cas (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)');
  const insert = db.prepare('INSERT INTO cas (id, v) VALUES (?, 1)');
  db.transaction(() => {
    for (let id = 1; id <= rows; id++) insert.run(id);
  })();
  db.close();
  return { file, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

const serverPragmas = (conn: { pragma(s: string): unknown }) => {
  conn.pragma('journal_mode = WAL');
  conn.pragma('synchronous = NORMAL');
  conn.pragma('busy_timeout = 5000');
};

/**
 * The same compare-and-set on the embedded default's engine: a scratch SQLite file opened with bare
 * better-sqlite3 and the server's pragmas (WAL, synchronous=NORMAL, busy_timeout 5 s; server/db/knex.ts), ONE
 * connection like the server's SQLite pool (SQLite has one writer; a second connection would only wait on the
 * file lock). `concurrency` async workers take turns on it: each attempt is `BEGIN IMMEDIATE; UPDATE cas SET
 * v=v+1 WHERE id=? AND v=?; COMMIT` (+ a SELECT after a conflict), run synchronously (better-sqlite3 has no
 * round trips to await) once the worker's turn comes (`setImmediate`: every other ready worker goes first).
 * Latency runs from the worker's choice of row and version to its COMMIT, so it includes the wait for the
 * other workers' turns, and a row someone else changed meanwhile is a conflict. This is the engine's limit for
 * the core of a hold, without knex, sockets or the server's rules.
 */
export async function sqliteCasBaseline(o: { concurrency: number; rows: number; durationMs: number }): Promise<CasResult> {
  const scratch = scratchSqlite(o.rows);
  const db = new Database(scratch.file);
  try {
    serverPragmas(db);
    const begin = db.prepare('BEGIN IMMEDIATE');
    const update = db.prepare('UPDATE cas SET v = v + 1 WHERE id = ? AND v = ?');
    const commit = db.prepare('COMMIT');
    const reread = db.prepare('SELECT v FROM cas WHERE id = ?');
    const r = await casWorkers(o, async (id, v) => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      begin.run();
      const res = update.run(id, v);
      commit.run();
      if (res.changes === 1) return { changed: true };
      return { changed: false, current: (reread.get(id) as { v: number }).v };
    });
    return { concurrency: o.concurrency, connections: 1, rows: o.rows, ...r };
  } finally {
    db.close();
    scratch.dispose();
  }
}

/**
 * The same race through knex on better-sqlite3 (pool of one connection, the server's pragmas): each attempt is
 * a knex transaction (`BEGIN`, the version-checked UPDATE, `COMMIT`, as the server's transactions are), so the
 * difference to `sqliteCasBaseline` is what the driver wrapper and promise hops cost per statement. Reported
 * in the JSON only (details), next to the raw figure.
 */
export async function sqliteKnexCasBaseline(o: { concurrency: number; rows: number; durationMs: number }): Promise<CasResult> {
  const scratch = scratchSqlite(o.rows);
  const db = knexFactory({
    client: 'better-sqlite3',
    connection: { filename: scratch.file },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      afterCreate: (conn: { pragma(s: string): unknown }, done: (err: Error | null, conn: unknown) => void) => {
        serverPragmas(conn);
        done(null, conn);
      },
    },
  });
  try {
    const r = await casWorkers(o, async (id, v) => {
      let changed = 0;
      await db.transaction(async (trx) => {
        changed = await trx('cas').where({ id, v }).update({ v: trx.raw('v + 1') });
      });
      if (changed === 1) return { changed: true };
      const row = (await db('cas').where({ id }).first('v')) as { v: number };
      return { changed: false, current: row.v };
    });
    return { concurrency: o.concurrency, connections: 1, rows: o.rows, ...r };
  } finally {
    await db.destroy();
    scratch.dispose();
  }
}
