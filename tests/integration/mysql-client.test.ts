import { createDb, type Db } from '../../server/db/knex';
import { StatementRound } from '../../server/db/statement-round';
import { RetryableConflict, withTransaction } from '../../server/db/transaction';
import { describeEach, mysqlDialects } from '../helpers/dialects';
import { createMysqlDatabase } from '../helpers/mysql';

/**
 * The mysql2 client folds BEGIN into a transaction's first statement and, when a statement round asks, COMMIT into
 * its last (server/db/mysql-client.ts). What must not change: every statement's answer, what a rolled-back
 * transaction leaves (nothing), and the next transaction on the same pooled connection. The pool has ONE
 * connection, so every transaction here runs on the connection the one before it used.
 */
describeEach(mysqlDialects(), 'the folding mysql2 client on %s', () => {
  let db: Db;
  let drop: () => Promise<void>;
  /** The SQL of every query sent to the server, in order. */
  let sent: string[] = [];
  beforeAll(async () => {
    const created = await createMysqlDatabase();
    drop = created.drop;
    db = createDb({ database: { client: 'mysql2', url: created.url }, dbPoolMax: 1 });
    await db.schema.createTable('t', (t) => {
      t.increments('id');
      t.string('name').notNullable().unique();
      t.integer('v').notNullable();
    });
    db.on('query', (q: { sql: string }) => sent.push(q.sql));
  });
  beforeEach(() => {
    sent = [];
  });
  afterAll(async () => {
    await db.destroy();
    await drop();
  });

  const names = async () => ((await db('t').orderBy('name').pluck('name')) as string[]).filter((n) => n.startsWith('c-'));
  const failure = (p: Promise<unknown>) => p.then(() => undefined, (err: Error) => err);

  it('sends BEGIN with the first statement and answers every statement as if it had gone alone', async () => {
    await db('t').insert({ name: 'a-seed', v: 1 });
    sent = [];
    const out = await db.transaction(async (trx) => {
      const first = await trx('t').where('name', 'a-seed').first('v');
      const [id] = await trx('t').insert({ name: 'a-new', v: 2 });
      const changed = await trx('t').whereIn('name', ['a-seed', 'a-new']).update({ v: 3 });
      const [pair] = (await trx.raw('SELECT 1 AS one; SELECT 2 AS two')) as [unknown[]];
      return { first, id, changed, pair };
    });
    const inTransaction = [...sent];
    expect(out.first).toEqual({ v: 1 });
    expect(out.id).toBe((await db('t').where('name', 'a-new').first('id')).id);
    expect(out.changed).toBe(2);
    expect(out.pair).toEqual([[{ one: 1 }], [{ two: 2 }]]);
    expect(inTransaction[0]).toMatch(/^BEGIN;\n\s*select/i);
    expect(inTransaction).not.toContain('BEGIN;');
    expect(inTransaction[inTransaction.length - 1]).toBe('COMMIT;');
    expect(inTransaction).toHaveLength(5);
  });

  it('sends nothing for a transaction that sent no statement', async () => {
    await db.transaction(async () => undefined);
    await failure(db.transaction(async () => Promise.reject(new Error('nothing done'))));
    expect(sent).toEqual([]);
  });

  it('rolls back a transaction whose first statement failed, and the next one on the connection begins afresh', async () => {
    await db('t').insert({ name: 'b-taken', v: 0 });
    const dup = await failure(db.transaction((trx) => trx('t').insert({ name: 'b-taken', v: 0 })));
    expect(String(dup?.message)).toMatch(/duplicate/i);
    expect(sent).toContain('ROLLBACK');
    // If this transaction's BEGIN were lost (or swallowed as left over from the one before), its insert would
    // commit on its own and survive the rollback.
    await failure(
      db.transaction(async (trx) => {
        await trx('t').insert({ name: 'b-rolled-back', v: 0 });
        throw new Error('roll back');
      }),
    );
    expect(await db('t').where('name', 'b-rolled-back').first()).toBeUndefined();
  });

  it('commits in a round that ends in COMMIT, sends no COMMIT after it, and the next transaction begins afresh', async () => {
    await db.transaction(async (trx) => {
      await trx('t').insert({ name: 'c-first', v: 0 });
      const round = new StatementRound();
      round.write(trx('t').where('name', 'c-first').update({ v: 1 }), { rows: 1, what: 'c-first moved' });
      round.insert('t', [{ name: 'c-second', v: 1 }]);
      await round.run(trx, { commit: true });
    });
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatch(/;\nCOMMIT$/);
    expect(await names()).toEqual(['c-first', 'c-second']);
    // The connection's "committed" mark must not make the next transaction's BEGIN or ROLLBACK go unsent.
    await failure(
      db.transaction(async (trx) => {
        await trx('t').insert({ name: 'c-rolled-back', v: 0 });
        throw new Error('roll back');
      }),
    );
    expect(await names()).toEqual(['c-first', 'c-second']);
  });

  it('refuses a statement after the committing round, and never retries a transaction that failed after it', async () => {
    let runs = 0;
    const err = await failure(
      withTransaction(db, async (trx) => {
        runs++;
        const round = new StatementRound();
        round.insert('t', [{ name: `e-committed-${runs}`, v: 0 }]);
        await round.run(trx, { commit: true });
        const late = await failure(trx('t').insert({ name: 'e-late', v: 0 }));
        expect(late?.name).toBe('CommittedTransactionError');
        // A retryable failure now would run the whole body again: its writes are committed already.
        throw new RetryableConflict('after the commit');
      }),
    );
    expect(err?.name).toBe('CommittedTransactionError');
    expect(runs).toBe(1);
    expect(await db('t').where('name', 'like', 'e-%').pluck('name')).toEqual(['e-committed-1']);
  });

  it('stops a committing round at a short compare-and-set: nothing after it runs and nothing is committed', async () => {
    const err = await failure(
      db.transaction(async (trx) => {
        await trx('t').insert({ name: 'd-before', v: 0 });
        const round = new StatementRound();
        round.write(trx('t').where('name', 'd-before').update({ v: 1 }), { rows: 2, what: 'd rows moved' });
        round.insert('t', [{ name: 'd-after', v: 1 }]);
        await round.run(trx, { commit: true });
      }),
    );
    expect(err?.name).toBe('RetryableConflict');
    expect(err?.message).toMatch(/d rows moved/);
    expect(sent).toContain('ROLLBACK');
    expect(await db('t').whereIn('name', ['d-before', 'd-after']).pluck('name')).toEqual([]);
  });
});
