/**
 * knex's `query` event, as the tests that count or inspect the statements a batch sends read it: the statement,
 * its bindings and, inside a transaction, the transaction's id.
 */
export interface QueryEvent {
  sql: string;
  bindings?: unknown[];
  __knexTxId?: string;
}
