/** The mysql2 pool the raw database baselines run on, set up the way the server's pool is (server/db/knex.ts). */
import mysql from 'mysql2/promise';

/**
 * A pool of `connections` to `databaseUrl` without the FOUND_ROWS flag (so `affectedRows` counts rows changed) and
 * with every connection READ COMMITTED, like the server's. The session setting is hooked in before the first
 * query, so the connections that create the scratch tables get it too.
 */
export function baselinePool(databaseUrl: string, connections: number, opts: { multipleStatements?: boolean } = {}): mysql.Pool {
  const url = new URL(databaseUrl);
  const pool = mysql.createPool({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: url.pathname.replace(/^\//, ''),
    connectionLimit: connections,
    multipleStatements: opts.multipleStatements ?? false,
    flags: ['-FOUND_ROWS'],
  });
  (pool as unknown as { pool: { on(e: 'connection', f: (c: { query(sql: string): void }) => void): void } }).pool.on('connection', (c) =>
    c.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED'),
  );
  return pool;
}
