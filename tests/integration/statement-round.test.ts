import type { Db } from '../../server/db/knex';
import type { Trx } from '../../server/db/transaction';
import { StatementRound } from '../../server/db/statement-round';
import { mysqlDialects, describeEach, testDialects } from '../helpers/dialects';
import { createDeadlockTable } from '../helpers/mysql';
import { openScratchDb } from '../helpers/scratch-db';

/**
 * A batch's reads and writes go out in rounds (server/db/statement-round.ts). What a round must guarantee: results by
 * statement (rows read, rows changed, the ids of inserted rows, each statement seeing the ones before it), and on
 * MariaDB that no statement runs after one that failed, above all after a deadlock, which ends the transaction: a
 * write run after that would commit on its own.
 */
describeEach(testDialects(), 'StatementRound on %s', (dialect) => {
  let db: Db;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ db, drop } = await openScratchDb(dialect, 'evently-round-'));
    await db.schema.createTable('t', (t) => {
      t.increments('id');
      t.string('name').notNullable().unique();
      t.integer('v').notNullable();
    });
  });
  afterAll(async () => {
    await db.destroy();
    await drop();
  });

  it('answers each statement with its rows, rows changed or inserted ids, each seeing the statements before it', async () => {
    await db('t').insert({ name: 'seed-a', v: 0 });
    const results = await db.transaction(async (trx) => {
      const round = new StatementRound();
      const a = round.insert('t', [
        { name: 'r1', v: 1 },
        { name: 'r2', v: 1 },
        { name: 'r3', v: 1 },
      ]);
      const b = round.write(trx('t').where('v', 1).update({ v: 2 }));
      const c = round.write(trx('t').where('name', 'nobody').update({ v: 9 }));
      const d = round.read<{ name: string; v: number }>(trx('t').where('v', 2).orderBy('name').select('name', 'v'));
      const e = round.read<{ name: string }>(trx('t').where('name', 'nobody').select('name'));
      await round.run(trx);
      return { a: round.get(a), b: round.get(b), c: round.get(c), d: round.get(d), e: round.get(e) };
    });
    const ids = (await db('t').whereIn('name', ['r1', 'r2', 'r3']).orderBy('id').select('id')).map((r) => r.id);
    expect(results.a).toMatchObject({ changed: 3, firstId: ids[0], lastId: ids[2] });
    expect(ids[2] - ids[0]).toBe(2);
    expect(results.b.changed).toBe(3);
    expect(results.c.changed).toBe(0);
    expect(results.d).toEqual([
      { name: 'r1', v: 2 },
      { name: 'r2', v: 2 },
      { name: 'r3', v: 2 },
    ]);
    expect(results.e).toEqual([]);
  });

  it('answers a round of one statement like a round of several', async () => {
    const round = new StatementRound();
    const only = round.read<{ n: number }>(db('t').where('name', 'seed-a').select('v as n'));
    await round.run(db as unknown as Trx);
    expect(round.get(only)).toEqual([{ n: 0 }]);
  });

  it('runs no statement after one that failed', async () => {
    await db('t').insert({ name: 'taken', v: 0 });
    const round = new StatementRound();
    round.insert('t', [{ name: 'before', v: 0 }]);
    round.insert('t', [{ name: 'taken', v: 0 }]); // duplicate key
    round.insert('t', [{ name: 'after', v: 0 }]);
    // Outside a transaction each statement commits alone: what ran is exactly what stayed.
    // (The message, not toThrow: better-sqlite3's errors are not \`instanceof Error\` in every Jest realm.)
    const failed = await round.run(db as unknown as Trx).then(() => undefined, (err: { message?: string }) => err);
    expect(String(failed?.message)).toMatch(/duplicate|unique/i);
    expect((await db('t').whereIn('name', ['before', 'after']).pluck('name')).sort()).toEqual(['before']);
  });

  it('fails the round at a write that changed another count than it expected: a RetryableConflict, and nothing after it runs', async () => {
    await db('t').insert({ name: 'guarded', v: 0 });
    const failing = new StatementRound();
    failing.write(db('t').where('name', 'guarded').update({ v: 1 }), { rows: 1, what: 'guarded moved' });
    failing.write(db('t').where('name', 'nobody-there').update({ v: 1 }), { rows: 1, what: 'nobody moved' });
    failing.insert('t', [{ name: 'after-guard', v: 0 }]);
    const failed = await failing.run(db as unknown as Trx).then(() => undefined, (err: Error) => err);
    expect(failed?.name).toBe('RetryableConflict');
    expect(failed?.message).toMatch(/moved/);
    // Outside a transaction: the first write (count as expected) ran, the insert behind the short one did not.
    expect(await db('t').where('name', 'guarded').first('v')).toEqual({ v: 1 });
    expect(await db('t').where('name', 'after-guard').first()).toBeUndefined();

    const passing = new StatementRound();
    const w = passing.write(db('t').where('name', 'guarded').update({ v: 2 }), { rows: 1, what: 'guarded moved' });
    const r = passing.read<{ v: number }>(db('t').where('name', 'guarded').select('v'));
    await passing.run(db as unknown as Trx);
    expect(passing.get(w).changed).toBe(1);
    expect(passing.get(r)).toEqual([{ v: 2 }]);
  });
});

describeEach(mysqlDialects(), 'StatementRound ids of a round\'s own inserts on %s', (dialect) => {
  let db: Db;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ db, drop } = await openScratchDb(dialect, 'evently-round-ids-'));
    await db.schema.createTable('parent', (t) => {
      t.increments('id');
      t.string('name').notNullable();
    });
    await db.schema.createTable('child', (t) => {
      t.increments('id');
      t.integer('parent_id').notNullable();
      t.string('name').notNullable();
    });
  });
  afterAll(async () => {
    await db.destroy();
    await drop();
  });

  it('lets later statements of the round write the ids its inserts get, in the same round trip', async () => {
    // Rows already in the table, and a variable left on the connection by an earlier round: neither may leak in.
    await db('parent').insert([{ name: 'old-1' }, { name: 'old-2' }]);
    const insertRound = async (names: string[]) =>
      db.transaction(async (trx) => {
        const round = new StatementRound();
        const parents = round.insert('parent', names.map((name) => ({ name })));
        const children = names.map((name, i) => ({ parent_id: round.idOf(parents, i, trx), name: `child-of-${name}` }));
        round.insert('child', children.reverse());
        await round.run(trx);
        return round.get(parents);
      });
    await insertRound(['first']);
    const inserted = await insertRound(['a', 'b', 'c']);
    const rows = await db('child as c').join('parent as p', 'p.id', 'c.parent_id').whereIn('p.name', ['a', 'b', 'c']).orderBy('p.id').select('p.id', 'p.name', 'c.name as child');
    expect(rows).toEqual([
      { id: inserted.firstId, name: 'a', child: 'child-of-a' },
      { id: inserted.firstId + 1, name: 'b', child: 'child-of-b' },
      { id: inserted.firstId + 2, name: 'c', child: 'child-of-c' },
    ]);
  });

  it('refuses idOf for a statement that is not an insert', () => {
    const round = new StatementRound();
    const w = round.write(db('parent').where('name', 'x').update({ name: 'y' }));
    expect(() => round.idOf(w, 0, db)).toThrow(/not an insert/);
  });
});

describeEach(mysqlDialects(), 'StatementRound after a deadlock on %s', () => {
  let db: Db;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await createDeadlockTable());
    await db.schema.createTable('marks', (t) => {
      t.string('by').primary();
    });
  });
  afterAll(() => close());

  it('never runs the deadlock victim’s later writes: they would commit outside its transaction', async () => {
    let ready = 0;
    let go!: () => void;
    const bothLocked = new Promise<void>((r) => (go = r));
    const side = (by: string, first: number, second: number) =>
      db
        .transaction(async (trx) => {
          await trx('t').where({ id: first }).update({ v: trx.raw('v + 1') });
          if (++ready === 2) go();
          await bothLocked;
          const round = new StatementRound();
          round.write(trx('t').where({ id: second }).update({ v: trx.raw('v + 1') }));
          round.insert('marks', [{ by }]);
          await round.run(trx);
        })
        .then(
          () => 'committed',
          (err: { errno?: number }) => (err.errno === 1213 ? 'deadlock' : Promise.reject(err)),
        );
    const [a, b] = await Promise.all([side('a', 1, 2), side('b', 2, 1)]);
    expect([a, b].sort()).toEqual(['committed', 'deadlock']);
    // Only the winner's mark: the victim's insert, queued behind the statement that deadlocked, never ran.
    expect(await db('marks').pluck('by')).toEqual([a === 'committed' ? 'a' : 'b']);
  });
});
