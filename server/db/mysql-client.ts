/**
 * knex's mysql2 client, with the two round trips of a transaction that carry no work folded into the ones that do.
 *
 * - **BEGIN rides with the first statement.** knex sends `BEGIN;` on its own and waits for the answer before the
 *   transaction's first statement. Here `BEGIN;` is held back and sent in front of that statement, as one
 *   multi-statement query (the pool allows them, see knex.ts), and the BEGIN's own result is taken off the answer,
 *   so the caller sees exactly the statement's. A transaction that ends before sending anything sends nothing.
 * - **COMMIT can ride with the last statement.** A query sent with the option {@link COMMITS_TRANSACTION} ends in
 *   `COMMIT` (StatementRound.run with `commit`, used by the group-committed batch's last write round). Once it has
 *   succeeded, the `COMMIT;` knex sends when the transaction body returns is answered here, without a round trip.
 *   Anything else sent on the transaction after that is refused (it would run outside it, committing by itself),
 *   and a body that fails after that rejects with {@link CommittedTransactionError}, which is never retried.
 *
 * Why: every round trip costs the network's latency and a turn of the node's event loop, and one event has one
 * batch in flight per node, so for a hot event the batch's time is the node's ceiling. A batch was BEGIN, two read
 * rounds, two write rounds and COMMIT; with these folded it was four round trips (two since the rounds were merged,
 * 2026-12-01). With a 1 ms link to the database a hot event's batches took 24% less time; on this machine's
 * loopback database no flash-sale figure moved (load/README.md, issue 17, "BEGIN and COMMIT folded into a batch's
 * rounds").
 *
 * The state lives on the pooled connection and is dropped when knex releases it, so nothing leaks to its next user.
 */
import type { Knex } from 'knex';

/** Query option: this query ends in COMMIT, so the transaction's own COMMIT is answered without a round trip. */
export const COMMITS_TRANSACTION = 'eventlyCommitsTransaction';

const STATE = Symbol('evently.transactionState');
/** `begin-pending`: BEGIN not sent yet. `committed`: a query ending in COMMIT succeeded. */
type TransactionState = 'begin-pending' | 'committed';

interface Connection {
  [STATE]?: TransactionState;
}

/** What knex hands its client's `query` (the compiled statement) and gets back with `response` filled in. */
interface QueryObject {
  sql: string;
  bindings?: unknown[];
  options?: Record<string, unknown>;
  response?: [unknown, unknown];
  [key: string]: unknown;
}

interface KnexClient {
  query(connection: Connection, query: string | QueryObject): Promise<QueryObject>;
  stream(connection: Connection, query: string | QueryObject, stream: unknown, options: unknown): Promise<unknown>;
  releaseConnection(connection: Connection): Promise<unknown>;
}

// knex ships no types for its dialect classes; this is the class `client: 'mysql2'` would load.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Mysql2Client = require('knex/lib/dialects/mysql2') as new (config: Knex.Config) => KnexClient;

/** The answer to a transaction-control statement that was not sent. */
const unsent = (query: QueryObject): Promise<QueryObject> => Promise.resolve({ ...query, response: [{ affectedRows: 0 }, undefined] });

/**
 * The answer to `BEGIN;\n<sql>` without the BEGIN's part: mysql2 answers a multi-statement query with an array of
 * results (and of field lists), and a single statement with its result alone.
 */
function withoutBegin(response: [unknown, unknown]): [unknown, unknown] {
  const [rows, fields] = response as [unknown[], unknown[] | undefined];
  if (rows.length === 2) return [rows[1], fields?.[1]];
  return [rows.slice(1), fields?.slice(1)];
}

/** A transaction committed in its last round was then used again: a bug in the caller, never retried. */
export class CommittedTransactionError extends Error {
  constructor(statement?: string) {
    super(
      statement === undefined
        ? 'the transaction failed after its last statement round had committed it; it is not rolled back or retried'
        : `a statement was sent after the transaction's last round had committed it: ${statement.slice(0, 80)}`,
    );
    this.name = 'CommittedTransactionError';
  }
}

export class FoldingMysqlClient extends Mysql2Client {
  constructor(config: Knex.Config) {
    // `client.config.client` stays 'mysql2': the code that picks SQL per dialect reads it.
    super({ ...config, client: 'mysql2' });
  }

  override query(connection: Connection, param: string | QueryObject): Promise<QueryObject> {
    const query = typeof param === 'string' ? { sql: param } : param;
    const state = connection[STATE];
    if (query.sql === 'BEGIN;' && state === undefined) {
      connection[STATE] = 'begin-pending';
      return unsent(query);
    }
    if (state !== undefined && (query.sql === 'COMMIT;' || query.sql === 'ROLLBACK')) {
      connection[STATE] = undefined;
      // The body failed after its last round committed. The commit stands, so the transaction must not be run
      // again: it rejects with this error (knex rejects with what its ROLLBACK answered), which no retry takes.
      if (state === 'committed' && query.sql === 'ROLLBACK') return Promise.reject(new CommittedTransactionError());
      // Nothing was begun on the server, or the transaction is already committed: nothing to end.
      return unsent(query);
    }
    if (state === 'committed') {
      // After its COMMIT a statement would run outside the transaction, and commit on its own.
      return Promise.reject(new CommittedTransactionError(query.sql));
    }
    const commits = query.options?.[COMMITS_TRANSACTION] === true;
    let sent = query;
    if (commits) {
      const { [COMMITS_TRANSACTION]: _commits, ...options } = query.options!;
      sent = { ...sent, options };
    }
    if (state === 'begin-pending') {
      connection[STATE] = undefined;
      sent = { ...sent, sql: `BEGIN;\n${sent.sql}` };
    }
    if (sent === query) return super.query(connection, query);
    return super.query(connection, sent).then((answered) => {
      if (commits) connection[STATE] = 'committed';
      const response = state === 'begin-pending' && answered.response ? withoutBegin(answered.response) : answered.response;
      return { ...answered, sql: query.sql, options: query.options, response };
    });
  }

  override async stream(connection: Connection, param: string | QueryObject, stream: unknown, options: unknown): Promise<unknown> {
    // A stream cannot share its query with BEGIN (its rows are the whole answer): BEGIN goes first, on its own.
    if (connection[STATE] === 'begin-pending') {
      connection[STATE] = undefined;
      await super.query(connection, { sql: 'BEGIN;' });
    }
    return super.stream(connection, param, stream, options);
  }

  override releaseConnection(connection: Connection): Promise<unknown> {
    connection[STATE] = undefined;
    return super.releaseConnection(connection);
  }
}
