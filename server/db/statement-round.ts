import type { Knex } from 'knex';
import { insertInChunks } from './chunked-insert';
import type { Trx } from './transaction';

/** What a write of a round did: rows it changed, and for an insert the ids of its first and last rows. */
export interface WriteResult {
  changed: number;
  firstId: number;
  lastId: number;
}

/** A statement's place in its round; `round.get(ref)` gives its result once the round has run. */
export interface Ref<T> {
  readonly at: number;
  /** Carries the result type; never set. */
  readonly result?: T;
}

type Statement =
  | { kind: 'read'; query: Knex.QueryBuilder | Knex.Raw }
  | { kind: 'insert'; table: string; rows: Record<string, unknown>[] }
  | { kind: 'write'; query: Knex.QueryBuilder | Knex.Raw };

/** The shape mysql2 reports for a statement that returns no rows. */
interface MysqlHeader {
  affectedRows: number;
  insertId: number;
}

/**
 * Statements that go to the database together, in one round trip on MySQL: they are sent as one
 * multi-statement query, which the server runs in order and stops at the first that fails.
 *
 * - **One round trip** instead of one per statement. In a rush the event loop is busy with socket writes, and
 *   each answer waits for it; a group-committed batch waits once per round, not once per statement.
 * - **Nothing runs after a failure.** That is what makes it safe to send writes without waiting for each answer:
 *   a deadlock rolls the whole transaction back, and a write sent behind the failed one as a query of its own
 *   would then run outside the transaction and commit by itself. Here it is never run.
 * - **In order,** so locks are taken in the order the statements were added.
 *
 * On SQLite the statements run one after the other (an in-process call each, nothing to save).
 *
 * Every value travels as a binding: the SQL text of each statement is knex's, never built from input (the pool
 * allows multi-statement queries, so a value pasted into SQL text could smuggle in a statement of its own).
 */
export class StatementRound {
  private readonly statements: Statement[] = [];
  private results: unknown[] | undefined;

  /** A SELECT (a query builder not yet awaited, or a raw statement); its result is its rows. */
  read<T>(query: Knex.QueryBuilder | Knex.Raw): Ref<T[]> {
    return { at: this.statements.push({ kind: 'read', query }) - 1 };
  }

  /** A multi-row insert; its result carries the first and last new ids (MySQL numbers one statement's rows consecutively). */
  insert(table: string, rows: Record<string, unknown>[]): Ref<WriteResult> {
    return { at: this.statements.push({ kind: 'insert', table, rows }) - 1 };
  }

  /** An UPDATE (a query builder with `.update(...)` not yet awaited, or a raw statement); its result carries the rows changed. */
  write(query: Knex.QueryBuilder | Knex.Raw): Ref<WriteResult> {
    return { at: this.statements.push({ kind: 'write', query }) - 1 };
  }

  /** The result of a statement of this round, after `run`. */
  get<T>(ref: Ref<T>): T {
    if (!this.results) throw new Error('StatementRound: get() before run()');
    return this.results[ref.at] as T;
  }

  /** Runs the statements in order inside `trx` (once). */
  async run(trx: Trx): Promise<void> {
    if (this.results) throw new Error('StatementRound: run() twice');
    this.results = trx.client.config.client === 'mysql2' ? await this.runTogether(trx) : await this.runOneByOne(trx);
  }

  private async runTogether(trx: Trx): Promise<unknown[]> {
    if (!this.statements.length) return [];
    const sql: string[] = [];
    const bindings: Knex.RawBinding[] = [];
    for (const s of this.statements) {
      const native = (s.kind === 'insert' ? trx(s.table).insert(s.rows) : s.query).toSQL().toNative();
      sql.push(native.sql);
      bindings.push(...(native.bindings as Knex.RawBinding[]));
    }
    const [reply] = (await trx.raw(sql.join(';\n'), bindings)) as [unknown];
    // mysql2 answers a single statement with its own result, several with an array of them.
    const replies = this.statements.length === 1 ? [reply] : (reply as unknown[]);
    return this.statements.map((s, i) => {
      if (s.kind === 'read') return replies[i];
      const h = replies[i] as MysqlHeader;
      const rows = s.kind === 'insert' ? s.rows.length : 0;
      return { changed: h.affectedRows, firstId: Number(h.insertId), lastId: Number(h.insertId) + rows - 1 } satisfies WriteResult;
    });
  }

  private async runOneByOne(trx: Trx): Promise<unknown[]> {
    const out: unknown[] = [];
    for (const s of this.statements) {
      if (s.kind === 'read') out.push(await s.query);
      else if (s.kind === 'insert') {
        // In chunks (SQLite's compound-SELECT limit); inside the transaction this connection is the only writer, so
        // the chunks' ids follow on from each other and the last reported id is the last row's.
        const last = await insertInChunks(trx, s.table, s.rows);
        out.push({ changed: s.rows.length, firstId: Number(last) - s.rows.length + 1, lastId: Number(last) } satisfies WriteResult);
      } else out.push({ changed: Number(await s.query), firstId: 0, lastId: 0 } satisfies WriteResult);
    }
    return out;
  }
}
