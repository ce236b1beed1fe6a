/**
 * knex's better-sqlite3 client, with each connection's prepared statements kept for reuse.
 *
 * knex prepares every query it runs (`connection.prepare(sql)`: SQLite parses and plans the text again), and the
 * embedded default runs the same few dozen statement texts over and over: a hot-seat run on SQLite spent ~10% of
 * the node's busy time in `prepare` alone (load/README.md, issue 17, "SQLite statements prepared once"). Here a
 * statement is prepared the first time its text is seen on a connection and reused after; the bindings still travel
 * separately on every run, so reuse changes nothing in what runs. A schema change is safe: SQLite re-prepares a
 * statement whose tables changed when it next runs.
 *
 * Bounded per connection ({@link MAX_STATEMENTS}, least recently used out): texts that differ with the length of
 * a list (`in (?, ?, …)`) cannot grow it without limit. A query asking for `safeIntegers` is prepared fresh, as knex
 * does, since that setting stays on the statement.
 *
 * A connection to a file also gets its WAL checkpointed by a thread of its own (sqlite-checkpointer.ts).
 */
import type { Knex } from 'knex';
import { BACKSTOP_PAGES, WalCheckpointer } from './sqlite-checkpointer';

/** Prepared statements kept per connection. */
export const MAX_STATEMENTS = 500;

/** The part of a better-sqlite3 statement knex's client uses. */
interface Statement {
  readonly reader: boolean;
  all(bindings: unknown[]): unknown[];
  run(bindings: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  safeIntegers(on: boolean): Statement;
}

interface Connection {
  prepare(sql: string): Statement;
  pragma(source: string): unknown;
  /** True inside BEGIN … COMMIT: a write outside one is a commit of its own. */
  readonly inTransaction: boolean;
}

/** What knex hands its client's `_query` (the compiled statement) and gets back with `response` filled in. */
interface QueryObject {
  sql: string;
  bindings?: unknown[];
  options?: Record<string, unknown>;
  response?: unknown;
  context?: { lastID: number | bigint; changes: number };
}

interface KnexSqliteClient {
  connectionSettings: { filename: string };
  acquireRawConnection(): Promise<Connection>;
  destroyRawConnection(connection: Connection): Promise<void>;
  _query(connection: Connection, obj: QueryObject): Promise<QueryObject>;
  _formatBindings(bindings: unknown[] | undefined): unknown[];
  _optSafeIntegers(options: unknown): boolean | undefined;
}

// knex ships no types for its dialect classes; this is the class `client: 'better-sqlite3'` would load.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const BetterSqlite3Client = require('knex/lib/dialects/better-sqlite3') as new (config: Knex.Config) => KnexSqliteClient;

/** Each connection's statements by SQL text, in use order (a Map keeps insertion order: the first is the oldest). */
const statements = new WeakMap<Connection, Map<string, Statement>>();

/** The connection's prepared statement for `sql`, prepared now if it is not kept (and kept from now on). */
function preparedStatement(connection: Connection, sql: string): Statement {
  let kept = statements.get(connection);
  if (!kept) statements.set(connection, (kept = new Map()));
  const hit = kept.get(sql);
  if (hit) {
    // Most recently used goes last, so the first entry is always the one to drop.
    kept.delete(sql);
    kept.set(sql, hit);
    return hit;
  }
  const statement = connection.prepare(sql);
  if (kept.size >= MAX_STATEMENTS) kept.delete(kept.keys().next().value as string);
  kept.set(sql, statement);
  return statement;
}

/** How many statements a connection keeps now: tests. */
export function keptStatements(connection: object): number {
  return statements.get(connection as Connection)?.size ?? 0;
}

/** Each file connection's checkpointer (sqlite-checkpointer.ts); an in-memory database has no log to checkpoint. */
const checkpointers = new WeakMap<Connection, WalCheckpointer>();

/** The checkpointer of a connection, if it has one: tests and metrics. */
export function checkpointerOf(connection: object): WalCheckpointer | undefined {
  return checkpointers.get(connection as Connection);
}

export class CachingSqliteClient extends BetterSqlite3Client {
  constructor(config: Knex.Config) {
    // `client.config.client` stays 'better-sqlite3', as with knex's own client.
    super({ ...config, client: 'better-sqlite3' });
  }

  override async acquireRawConnection(): Promise<Connection> {
    const connection = await super.acquireRawConnection();
    const { filename } = this.connectionSettings;
    if (filename && filename !== ':memory:' && !filename.startsWith('file::memory:')) {
      // The worker checkpoints; this connection only past the backstop (sqlite-checkpointer.ts).
      connection.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
      checkpointers.set(connection, new WalCheckpointer(filename));
    }
    return connection;
  }

  override async destroyRawConnection(connection: Connection): Promise<void> {
    await checkpointers.get(connection)?.stop();
    return super.destroyRawConnection(connection);
  }

  // Same as knex's better-sqlite3 `_query` (knex 3.x), but for where the statement comes from.
  override async _query(connection: Connection, obj: QueryObject): Promise<QueryObject> {
    if (!obj.sql) throw new Error('The query is empty');
    if (!connection) throw new Error('No connection provided');
    const safeIntegers = this._optSafeIntegers(obj.options);
    const statement = safeIntegers === undefined ? preparedStatement(connection, obj.sql) : connection.prepare(obj.sql).safeIntegers(safeIntegers);
    const bindings = this._formatBindings(obj.bindings);
    if (statement.reader) {
      obj.response = statement.all(bindings);
      return obj;
    }
    const response = statement.run(bindings);
    // A COMMIT, or a write outside a transaction: the log grew by a commit.
    if (!connection.inTransaction) checkpointers.get(connection)?.committed();
    obj.response = response;
    obj.context = { lastID: response.lastInsertRowid, changes: response.changes };
    return obj;
  }
}
