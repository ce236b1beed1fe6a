import type { Db } from '../../server/db/knex';
import { withTransaction } from '../../server/db/transaction';
import { mysqlDialects, describeEach } from '../helpers/dialects';
import { createDeadlockTable } from '../helpers/mysql';

/** Invariant 3: a real MariaDB deadlock (1213) rolls back one transaction, which is retried whole. */
describeEach(mysqlDialects(), 'withTransaction on %s', () => {
  let db: Db;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await createDeadlockTable());
  });
  afterAll(() => close());

  it('retries the whole transaction after a deadlock and both commit exactly once', async () => {
    let attempts = 0;
    let retries = 0;
    const barrier = (() => {
      let release!: () => void;
      let waiting = 0;
      const p = new Promise<void>((r) => (release = r));
      return () => {
        waiting++;
        if (waiting === 2) release();
        return p;
      };
    })();
    const body = (first: number, second: number) => async (trx: Parameters<Parameters<typeof withTransaction>[1]>[0]) => {
      attempts++;
      await trx('t').where({ id: first }).update({ v: trx.raw('v + 1') });
      if (attempts <= 2) await barrier(); // both hold their first lock before asking for the second
      await trx('t').where({ id: second }).update({ v: trx.raw('v + 1') });
    };
    await Promise.all([
      withTransaction(db, body(1, 2), { onRetry: () => retries++ }),
      withTransaction(db, body(2, 1), { onRetry: () => retries++ }),
    ]);
    expect(retries).toBeGreaterThanOrEqual(1);
    const rows = await db('t').orderBy('id');
    expect(rows.map((r) => r.v)).toEqual([2, 2]); // each transaction's effect exactly once
  });

  it('does not retry a non-retryable error', async () => {
    let attempts = 0;
    await expect(
      withTransaction(db, async (trx) => {
        attempts++;
        await trx('t').insert({ id: 1, v: 0 }); // duplicate key
      }),
    ).rejects.toMatchObject({ errno: 1062 });
    expect(attempts).toBe(1);
  });

  it('counts rows changed, not rows matched, and runs READ COMMITTED', async () => {
    // An UPDATE that matches a row but sets the same value changes nothing: mysql2 would report 1 with its
    // default FOUND_ROWS flag; the pool drops that flag on purpose.
    const current = (await db('t').where({ id: 1 }).first()).v;
    expect(await db('t').where({ id: 1 }).update({ v: current })).toBe(0);
    expect(await db('t').where({ id: 1 }).update({ v: current + 1 })).toBe(1);
    const [[row]] = (await db.raw('select @@tx_isolation as iso, @@innodb_lock_wait_timeout as lw')) as [[{ iso: string; lw: number }]];
    expect(row).toEqual({ iso: 'READ-COMMITTED', lw: 5 });
  });
});
