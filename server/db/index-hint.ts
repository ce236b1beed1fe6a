import type { Knex } from 'knex';
import { isMysql } from './knex';

/**
 * A table of a FROM or UPDATE clause, read through the index named: `holds FORCE INDEX (holds_token_unique)` on
 * MySQL, `holds INDEXED BY holds_token_unique` on SQLite.
 *
 * Why on SQLite: the embedded database is never ANALYZEd, and without statistics SQLite's planner guesses that an
 * equality on any indexed column finds ~10 rows. So for a list of four keys or more in an IN it prefers an index
 * on `event_id` alone, and reads every hold or every seat of the event to find a few: a batch's cost grew with the
 * sale (holds by token: 1.3 ms against 0.05 ms after a few thousand holds; load/README.md, "a batch's plans on SQLite").
 * `tests/integration/sqlite-plans.test.ts` checks the plan of every statement a batch runs.
 *
 * Why on MySQL: only where `mysql` is asked for, since InnoDB keeps statistics; the callers say why they force it.
 *
 * `index` is an index's name, or `'PRIMARY'` for the primary key of a table whose key is one integer column
 * (SQLite: `NOT INDEXED`, which still looks rows up by rowid). Names are the caller's constants, never input.
 */
export function tableVia(db: Knex, table: string, index: string, opts: { alias?: string; mysql?: boolean } = {}): string {
  const name = opts.alias ? `${table} AS ${opts.alias}` : table;
  if (isMysql(db)) return opts.mysql ? `${name} FORCE INDEX (${index})` : name;
  return index === 'PRIMARY' ? `${name} NOT INDEXED` : `${name} INDEXED BY ${index}`;
}

/** `tableVia` as a knex FROM: `db.from(fromVia(…))`, or `.update()` on it. */
export function fromVia(db: Knex, table: string, index: string, opts: { alias?: string; mysql?: boolean } = {}): Knex.Raw {
  return db.raw(tableVia(db, table, index, opts));
}
