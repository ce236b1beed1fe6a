import type { Db } from '../../server/db/knex';
import { batchedRead } from '../../server/db/batched-read';
import { describeEach, testDialects } from '../helpers/dialects';
import { openScratchDb } from '../helpers/scratch-db';

/**
 * Point reads batched per turn of the event loop (server/db/batched-read.ts), as the socket handshake reads users
 * and events: one query for the keys asked together, each caller its own answer, nothing cached.
 */
describeEach(testDialects(), 'batchedRead on %s', (dialect) => {
  let db: Db;
  let drop: () => Promise<void>;
  let queries = 0;
  beforeAll(async () => {
    ({ db, drop } = await openScratchDb(dialect, 'evently-batched-'));
    await db.schema.createTable('t', (t) => {
      t.integer('id').primary();
      t.integer('v').notNullable();
    });
    db.on('query', () => queries++);
  });
  afterAll(async () => {
    await db.destroy();
    await drop();
  });
  // Each test writes its own rows (ids from its own range) and counts its own queries.
  let base = 0;
  beforeEach(async () => {
    base += 100;
    await db('t').insert([1, 2, 3, 4, 5].map((i) => ({ id: base + i, v: i * 10 })));
    queries = 0;
  });

  const readV = (maxBatch?: number) =>
    batchedRead<number, number>(async (ids) => {
      const rows = (await db('t').whereIn('id', ids).select('id', 'v')) as { id: number; v: number }[];
      return new Map(rows.map((r) => [Number(r.id), Number(r.v)]));
    }, maxBatch);

  it('When keys are asked in one turn, then one query reads them all and each caller gets its own row, or undefined', async () => {
    const load = readV();

    const got = await Promise.all([base + 1, base + 2, base + 3, base + 2, base + 99].map((id) => load(id)));

    expect(got).toEqual([10, 20, 30, 20, undefined]);
    expect(queries).toBe(1);
  });

  it('When a key is asked after its batch went out, then it gets a read of its own that sees a later change', async () => {
    const load = readV();
    expect(await load(base + 1)).toBe(10);

    await db('t').where({ id: base + 1 }).update({ v: 11 });

    expect(await load(base + 1)).toBe(11);
    expect(queries).toBe(3);
  });

  it('When more keys than maxBatch are asked, then they go out in queries of at most maxBatch keys', async () => {
    const load = readV(2);

    const got = await Promise.all([1, 2, 3, 4, 5].map((i) => load(base + i)));

    expect(got).toEqual([10, 20, 30, 40, 50]);
    expect(queries).toBe(3);
  });

  it('When a batch fails, then each of its callers gets the error, and the next batch reads again', async () => {
    let fail = true;
    const load = batchedRead<number, number>(async (ids) => {
      if (fail) throw new Error('database down');
      const rows = (await db('t').whereIn('id', ids).select('id', 'v')) as { id: number; v: number }[];
      return new Map(rows.map((r) => [Number(r.id), Number(r.v)]));
    });

    const failed = await Promise.allSettled([load(base + 1), load(base + 2)]);
    fail = false;

    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await load(base + 1)).toBe(10);
  });
});
