import type { Knex } from 'knex';
import { insertInChunks } from './chunked-insert';
import { isMysql } from './knex';
import { COMMITS_TRANSACTION } from './mysql-client';
import { RetryableConflict, type Trx } from './transaction';

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

/** A write whose changed-row count must be exactly `rows`; `what` names the conflict when it is not. */
export interface Expect {
  rows: number;
  what: string;
}

type Statement =
  | { kind: 'read'; query: Knex.QueryBuilder | Knex.Raw }
  | { kind: 'insert'; table: string; rows: Record<string, unknown>[]; idVar?: string }
  | { kind: 'write'; query: Knex.QueryBuilder | Knex.Raw; expect?: Expect };

/**
 * Fails its query (error 1242, "Subquery returns more than 1 row") when the statement before it changed a number
 * of rows other than the one bound: the scalar subquery yields two rows exactly then. ROW_COUNT() is the previous
 * statement's count (changed rows: the pool drops FOUND_ROWS). Works on MySQL and MariaDB, outside stored programs.
 */
const COUNT_GUARD = 'SELECT (SELECT x FROM (SELECT 1 AS x UNION ALL SELECT 2) AS g WHERE ROW_COUNT() <> ?) AS evently_count_guard';
const ER_SUBQUERY_NO_1_ROW = 1242;

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
 * - **A write can carry the count it must change** (`expect`). On MySQL a guard statement right behind it fails the
 *   query when the count differs, so nothing after it runs, and the round rejects with a RetryableConflict. That is
 *   what lets a round end in COMMIT (`run(trx, { commit: true })`): a short compare-and-set never reaches it.
 *
 * On SQLite the statements run one after the other (an in-process call each, nothing to save); a write that
 * changed a count other than its `expect` stops the round the same way, and `commit` is left to the transaction.
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

  /**
   * An UPDATE (a query builder with `.update(...)` not yet awaited, or a raw statement); its result carries the rows
   * changed. With `expect`, any other count fails the round (nothing after the write runs) with a RetryableConflict.
   */
  write(query: Knex.QueryBuilder | Knex.Raw, expect?: Expect): Ref<WriteResult> {
    return { at: this.statements.push({ kind: 'write', query, expect }) - 1 };
  }

  /**
   * MySQL only: an SQL expression for the id the `row`-th row of an insert of this round gets, for the statements
   * added after it to write (a seat's new hold id, a booking seat's booking id) in the same round trip. The insert
   * keeps its first id in a session variable (`SET @… = LAST_INSERT_ID()` right behind it; one statement's rows are
   * numbered consecutively), and the expression adds `row` to it. Each round sets the variable before any
   * statement reads it, so a value left on a pooled connection by an earlier round is never read.
   */
  idOf(ref: Ref<WriteResult>, row: number, db: Knex): Knex.Raw {
    const s = this.statements[ref.at];
    if (s?.kind !== 'insert') throw new Error('StatementRound: idOf() of a statement that is not an insert');
    s.idVar ??= `@evently_first_id_${ref.at}`;
    return db.raw(`${s.idVar} + ?`, [row]);
  }

  /** The result of a statement of this round, after `run`. */
  get<T>(ref: Ref<T>): T {
    if (!this.results) throw new Error('StatementRound: get() before run()');
    return this.results[ref.at] as T;
  }

  /**
   * Runs the statements in order inside `trx` (once). With `commit`, on MySQL the round ends in COMMIT: the
   * transaction is committed when this resolves, and must send nothing more (knex's own COMMIT is then answered
   * without a round trip, see mysql-client.ts). On SQLite `commit` changes nothing: the transaction commits as usual.
   */
  async run(trx: Trx, opts: { commit?: boolean } = {}): Promise<void> {
    if (this.results) throw new Error('StatementRound: run() twice');
    this.results = isMysql(trx) ? await this.runTogether(trx, opts.commit ?? false) : await this.runOneByOne(trx);
  }

  private async runTogether(trx: Trx, commit: boolean): Promise<unknown[]> {
    if (!this.statements.length && !commit) return [];
    const sql: string[] = [];
    const bindings: Knex.RawBinding[] = [];
    /** Where each statement's answer is among the replies (guards, id variables and COMMIT answer too). */
    const at: number[] = [];
    for (const s of this.statements) {
      const native = (s.kind === 'insert' ? trx(s.table).insert(s.rows) : s.query).toSQL().toNative();
      at.push(sql.push(native.sql) - 1);
      bindings.push(...(native.bindings as Knex.RawBinding[]));
      if (s.kind === 'insert' && s.idVar) sql.push(`SET ${s.idVar} = LAST_INSERT_ID()`);
      if (s.kind === 'write' && s.expect) {
        sql.push(COUNT_GUARD);
        bindings.push(s.expect.rows);
      }
    }
    if (commit) sql.push('COMMIT');
    const query = trx.raw(sql.join(';\n'), bindings);
    if (commit) query.options({ [COMMITS_TRANSACTION]: true });
    let reply: unknown;
    try {
      [reply] = (await query) as [unknown];
    } catch (err) {
      const guarded = this.statements.flatMap((s) => (s.kind === 'write' && s.expect ? [s.expect.what] : []));
      if (guarded.length && (err as { errno?: number }).errno === ER_SUBQUERY_NO_1_ROW) throw new RetryableConflict(`a write changed another row count than expected: ${guarded.join(' or ')}`);
      throw err;
    }
    // mysql2 answers a single statement with its own result, several with an array of them.
    const replies = sql.length === 1 ? [reply] : (reply as unknown[]);
    return this.statements.map((s, i) => {
      if (s.kind === 'read') return replies[at[i]!];
      const h = replies[at[i]!] as MysqlHeader;
      const rows = s.kind === 'insert' ? s.rows.length : 0;
      return { changed: h.affectedRows, firstId: Number(h.insertId), lastId: Number(h.insertId) + rows - 1 } satisfies WriteResult;
    });
  }

  private async runOneByOne(trx: Trx): Promise<unknown[]> {
    const out: unknown[] = [];
    for (const s of this.statements) {
      if (s.kind === 'insert' && s.idVar) throw new Error('StatementRound: idOf() is for MySQL rounds; on SQLite run the insert first and use its ids');
      if (s.kind === 'read') out.push(await s.query);
      else if (s.kind === 'insert') {
        // In chunks (SQLite's compound-SELECT limit); inside the transaction this connection is the only writer, so
        // the chunks' ids follow on from each other and the last reported id is the last row's.
        const last = await insertInChunks(trx, s.table, s.rows);
        out.push({ changed: s.rows.length, firstId: Number(last) - s.rows.length + 1, lastId: Number(last) } satisfies WriteResult);
      } else {
        const changed = Number(await s.query);
        if (s.expect && changed !== s.expect.rows) throw new RetryableConflict(`${s.expect.what}: changed ${changed} of ${s.expect.rows}`);
        out.push({ changed, firstId: 0, lastId: 0 } satisfies WriteResult);
      }
    }
    return out;
  }
}
