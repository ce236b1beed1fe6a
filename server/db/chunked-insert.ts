import type { Knex } from 'knex';

/**
 * Most rows in one INSERT: knex writes a multi-row insert on SQLite as `SELECT … UNION ALL SELECT …`, and SQLite
 * refuses a compound SELECT of more than 500 terms (SQLITE_MAX_COMPOUND_SELECT).
 */
export const SQLITE_INSERT_ROWS = 500;

/**
 * Inserts `rows` into `table` in statements of at most SQLITE_INSERT_ROWS rows, one after the other on `db` (a
 * transaction, or the pool). Returns the id the driver reports for the last statement: on SQLite its last row's id,
 * which, inside a transaction (one writer), is the last of all the rows; 0 for no rows.
 */
export async function insertInChunks(db: Knex | Knex.Transaction, table: string, rows: Record<string, unknown>[]): Promise<number> {
  let last = 0;
  for (let i = 0; i < rows.length; i += SQLITE_INSERT_ROWS) [last] = (await db(table).insert(rows.slice(i, i + SQLITE_INSERT_ROWS))) as number[];
  return Number(last);
}
