import type { Knex } from 'knex';

/**
 * `CASE <column> WHEN ? THEN ? … END`: one value per row, keyed by `column`, as ONE flat expression (2 bindings per
 * row). Multi-row UPDATEs use it to set each row its own value, and to guard each row by its own read version
 * without a chain of ORs (SQLite refuses an expression tree deeper than 1,000; N ORs are N deep). `column` is
 * the caller's identifier, bound as one (`??`), never input.
 */
export function caseByKey<R>(db: Knex, column: string, rows: readonly R[], key: (row: R) => Knex.RawBinding, pick: (row: R) => Knex.RawBinding): Knex.Raw {
  const bindings: Knex.RawBinding[] = [column];
  for (const r of rows) bindings.push(key(r), pick(r));
  return db.raw(`CASE ?? ${rows.map(() => 'WHEN ? THEN ?').join(' ')} END`, bindings);
}
