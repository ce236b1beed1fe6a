import knexFactory, { type Knex } from 'knex';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../config';
import type { Logger } from '../shared/logger';
import { migrationSource } from '../../migrations';
import { FoldingMysqlClient } from './mysql-client';
import { CachingSqliteClient } from './sqlite-client';

export type Db = Knex;

/**
 * Builds the knex instance for the configured database.
 *
 * MySQL/MariaDB: sessions run READ COMMITTED (every write is a compare-and-set, so we rely on predicates, not
 * on snapshot isolation, and READ COMMITTED takes no gap locks on the `hold_id` index), and the connection
 * drops the FOUND_ROWS flag that mysql2 sets by default so `affectedRows` counts rows actually *changed*,
 * not rows matched. Every seat write also bumps `version`, so the two agree anyway; we still read the
 * stricter one on purpose.
 *
 * SQLite: one connection (better-sqlite3 is synchronous, SQLite has one writer), WAL, foreign keys on, statements
 * prepared once and reused.
 */
export function createDb(config: Pick<Config, 'database' | 'dbPoolMax'>, logger?: Logger): Db {
  // knex prints its own warnings (lost connections, pool trouble) with console.*; route them into the JSON logs.
  const log = logger
    ? {
        warn: (m: unknown) => logger.warn({ knex: String(m) }, 'knex warning'),
        error: (m: unknown) => logger.error({ knex: String(m) }, 'knex error'),
        deprecate: (m: unknown) => logger.warn({ knex: String(m) }, 'knex deprecation'),
        debug: (m: unknown) => logger.debug({ knex: m }, 'knex debug'),
      }
    : undefined;
  if (config.database.client === 'mysql2') {
    const url = new URL(config.database.url);
    return knexFactory({
      // knex's mysql2 client with BEGIN and COMMIT folded into the statements next to them (mysql-client.ts).
      client: FoldingMysqlClient as unknown as typeof Knex.Client,
      log,
      connection: {
        host: url.hostname,
        port: url.port ? Number(url.port) : 3306,
        user: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
        database: url.pathname.replace(/^\//, ''),
        charset: 'utf8mb4',
        flags: ['-FOUND_ROWS'],
        // A group-committed batch sends its reads and writes in rounds, each one multi-statement query
        // (server/db/statement-round.ts): one round trip, and the server stops at the first statement that fails.
        // Safe here because no SQL text is built from input: every value is a binding, which mysql2 escapes.
        multipleStatements: true,
        supportBigNumbers: true,
        bigNumberStrings: false,
      },
      pool: {
        min: 0,
        max: config.dbPoolMax,
        afterCreate: (conn: { query: (sql: string, cb: (err: Error | null) => void) => void }, done: (err: Error | null, conn: unknown) => void) => {
          // Lock waits are capped at 5 s (default 50): a stuck transaction fails fast and is retried whole,
          // and catch-up's grace window (seats/service.ts) can rely on transactions being short.
          // Two statements: the isolation variable is named differently in MariaDB and MySQL 8.
          conn.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED', (err) => {
            if (err) return done(err, conn);
            conn.query('SET SESSION innodb_lock_wait_timeout = 5', (err2) => done(err2, conn));
          });
        },
      },
      acquireConnectionTimeout: 30000,
    });
  }
  const filename = config.database.filename;
  if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
  return knexFactory({
    // knex's better-sqlite3 client, with each statement text prepared once per connection (sqlite-client.ts).
    client: CachingSqliteClient as unknown as typeof Knex.Client,
    log,
    connection: { filename },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      afterCreate: (conn: { pragma: (s: string) => void }, done: (err: Error | null, conn: unknown) => void) => {
        conn.pragma('journal_mode = WAL');
        conn.pragma('foreign_keys = ON');
        conn.pragma('busy_timeout = 5000');
        conn.pragma('synchronous = NORMAL');
        done(null, conn);
      },
    },
    acquireConnectionTimeout: 30000,
  });
}

export function isMysql(db: Db): boolean {
  return db.client.config.client === 'mysql2';
}

/** Applies pending migrations; returns the names applied. */
export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}
