import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { createDb, type Db } from '../../server/db/knex';

/** Server the tests use; override with TEST_MYSQL_URL (root access to create databases). */
export const TEST_MYSQL_URL = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';

export async function mysqlAvailability(): Promise<{ ok: boolean; url: string; reason?: string }> {
  try {
    const conn = await mysql.createConnection({ uri: TEST_MYSQL_URL, connectTimeout: 3000 });
    await conn.query('select 1');
    await conn.end();
    return { ok: true, url: TEST_MYSQL_URL };
  } catch (err) {
    return { ok: false, url: TEST_MYSQL_URL, reason: (err as Error).message };
  }
}

/** Creates an empty database of its own for one test file; returns its URL and a drop function. */
export async function createMysqlDatabase(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `evently_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const conn = await mysql.createConnection({ uri: TEST_MYSQL_URL });
  await conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await conn.end();
  return {
    name,
    url: `${TEST_MYSQL_URL.replace(/\/$/, '')}/${name}`,
    drop: async () => {
      const c = await mysql.createConnection({ uri: TEST_MYSQL_URL });
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
    },
  };
}

/**
 * A database of its own holding the table two deadlock tests lock in opposite orders: `t (id, v)` with rows 1 and
 * 2, v = 0. `close()` ends the pool and drops the database.
 */
export async function createDeadlockTable(): Promise<{ db: Db; close(): Promise<void> }> {
  const created = await createMysqlDatabase();
  const db = createDb({ database: { client: 'mysql2', url: created.url }, dbPoolMax: 4 });
  await db.schema.createTable('t', (t) => {
    t.integer('id').primary();
    t.integer('v').notNullable();
  });
  await db('t').insert([
    { id: 1, v: 0 },
    { id: 2, v: 0 },
  ]);
  return {
    db,
    close: async () => {
      await db.destroy();
      await created.drop();
    },
  };
}

/**
 * How many transactions of `conn`'s database, other than `conn`'s own, are waiting for a row lock (InnoDB's
 * `LOCK WAIT` state). Lets a test see a statement wait, or not, without a timer deciding the outcome.
 *
 * InnoDB answers INNODB_TRX from a cache it refreshes only when the table has not been read for 100 ms, so a
 * caller that polls must leave {@link LOCK_WAITS_POLL_MS} between reads, or it keeps reading the first answer.
 */
export async function lockWaits(conn: mysql.Connection): Promise<number> {
  const [rows] = (await conn.query(
    `SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
     WHERE t.trx_state = 'LOCK WAIT' AND p.DB = DATABASE() AND p.ID <> CONNECTION_ID()`,
  )) as unknown as [{ n: number | string }[]];
  return Number(rows[0]?.n ?? 0);
}

/** The interval between two reads of {@link lockWaits} that lets InnoDB refresh its answer. */
export const LOCK_WAITS_POLL_MS = 150;

/**
 * Whether another transaction of `conn`'s database waited for a row lock before `work` settled, read every
 * {@link LOCK_WAITS_POLL_MS}. Resolves true at the first wait seen: if `conn` holds the lock, the caller releases it
 * then (work that waits for it would otherwise wait until its lock timeout).
 */
export async function lockWaitBefore(conn: mysql.Connection, work: Promise<unknown>): Promise<boolean> {
  let settled = false;
  const done = () => void (settled = true);
  work.then(done, done);
  while (!settled) {
    if ((await lockWaits(conn)) > 0) return true;
    await new Promise((r) => setTimeout(r, LOCK_WAITS_POLL_MS));
  }
  return false;
}

/** Resolves once another transaction of `conn`'s database waits for a row lock; fails after `timeoutMs`. */
export async function untilLockWait(conn: mysql.Connection, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await lockWaits(conn)) === 0) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, LOCK_WAITS_POLL_MS));
  }
}
