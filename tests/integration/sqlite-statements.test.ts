import type { Db } from '../../server/db/knex';
import { keptStatements, MAX_STATEMENTS } from '../../server/db/sqlite-client';
import { openScratchDb } from '../helpers/scratch-db';

/**
 * The embedded default prepares each statement text once per connection and reuses it (server/db/sqlite-client.ts).
 * What reuse must not change: results with other bindings, inserted ids and changed-row counts, rolled-back
 * transactions, a table altered after its statements were prepared; and what it must bound: the statements kept.
 */
describe('SQLite statements prepared once per connection', () => {
  let db: Db;
  let drop: () => Promise<void>;
  /** The pool's one connection (SQLite's pool is 1), for counting what it keeps. */
  let connection: object;

  beforeAll(async () => {
    ({ db, drop } = await openScratchDb('sqlite', 'evently-stmts-'));
    await db.schema.createTable('t', (t) => {
      t.increments('id');
      t.string('name').notNullable().unique();
      t.integer('v').notNullable();
    });
    connection = await db.client.acquireConnection();
    await db.client.releaseConnection(connection);
  });
  afterAll(async () => {
    await db.destroy();
    await drop();
  });

  it('reuses a statement for the same text, with each run its own bindings and answer', async () => {
    const [a] = await db('t').insert({ name: 'reuse-a', v: 1 });
    const afterFirst = keptStatements(connection);
    const [b] = await db('t').insert({ name: 'reuse-b', v: 2 });
    expect(b).toBe(a! + 1);
    expect(keptStatements(connection)).toBe(afterFirst);

    const read = (name: string) => db('t').where({ name }).first('id', 'v');
    expect(await read('reuse-a')).toEqual({ id: a, v: 1 });
    const kept = keptStatements(connection);
    expect(await read('reuse-b')).toEqual({ id: b, v: 2 });
    expect(await read('nobody')).toBeUndefined();
    expect(keptStatements(connection)).toBe(kept);

    const changed = await db('t').whereIn('name', ['reuse-a', 'reuse-b']).update({ v: 3 });
    expect(changed).toBe(2);
    expect(await db('t').whereIn('name', ['reuse-a', 'nobody']).update({ v: 4 })).toBe(1);
  });

  it('keeps rolling back a transaction whose statements were prepared before', async () => {
    await db('t').insert({ name: 'rb-seed', v: 0 });
    const attempt = () =>
      db.transaction(async (trx) => {
        await trx('t').where({ name: 'rb-seed' }).update({ v: 9 });
        await trx('t').insert({ name: 'rb-seed', v: 1 }); // unique name: fails, the update is rolled back
      });
    for (let i = 0; i < 2; i++) {
      // The message, not toThrow: better-sqlite3's errors are not `instanceof Error` in every Jest realm.
      const failed = await attempt().then(() => undefined, (err: { message?: string }) => err);
      expect(String(failed?.message)).toMatch(/UNIQUE/);
      expect(await db('t').where({ name: 'rb-seed' }).first('v')).toEqual({ v: 0 });
    }
  });

  it('sees a column added after its statement was prepared', async () => {
    const all = () => db('t').where({ name: 'alter-a' }).select('*');
    await db('t').insert({ name: 'alter-a', v: 1 });
    expect(Object.keys((await all())[0]!)).toEqual(['id', 'name', 'v']);
    await db.schema.alterTable('t', (t) => t.integer('extra').notNullable().defaultTo(7));
    expect((await all())[0]).toMatchObject({ name: 'alter-a', v: 1, extra: 7 });
  });

  it(`keeps at most ${MAX_STATEMENTS} statements, the least recently used going first`, async () => {
    for (let n = 1; n <= MAX_STATEMENTS + 20; n++) {
      // A distinct text each time: the length of the list is in the SQL.
      const ids = Array.from({ length: n }, (_, i) => -1 - i);
      expect(await db('t').whereIn('id', ids).select('id')).toEqual([]);
    }
    expect(keptStatements(connection)).toBe(MAX_STATEMENTS);
    // Still answers correctly, whatever was dropped.
    const [id] = await db('t').insert({ name: 'bound-a', v: 5 });
    expect(await db('t').where({ id }).first('name', 'v')).toEqual({ name: 'bound-a', v: 5 });
    expect(keptStatements(connection)).toBe(MAX_STATEMENTS);
  });
});
