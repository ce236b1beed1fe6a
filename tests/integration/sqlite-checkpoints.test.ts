import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDb, type Db } from '../../server/db/knex';
import { CHECKPOINT_EVERY_COMMITS, WalCheckpointer } from '../../server/db/sqlite-checkpointer';
import { checkpointerOf } from '../../server/db/sqlite-client';

/**
 * The embedded database's WAL is checkpointed by a worker thread with its own connection
 * (server/db/sqlite-checkpointer.ts), so a COMMIT on the node's thread never copies the log back itself. What it
 * must do: checkpoint as commits come (autocommit writes and transactions alike), lose nothing, end with the
 * database, and fail without harm (the node's connection checkpoints past its backstop).
 */
describe('SQLite checkpoints on a thread of their own', () => {
  let dir: string;
  let db: Db;
  let file: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'evently-ckpt-'));
    file = join(dir, 't.sqlite');
    db = createDb({ database: { client: 'better-sqlite3', filename: file }, dbPoolMax: 1 } as Parameters<typeof createDb>[0]);
    await db.schema.createTable('t', (t) => {
      t.increments('id');
      t.text('body').notNullable();
    });
  });
  afterEach(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The pool's one connection (SQLite's pool is 1). */
  const connection = async () => {
    const conn = await db.client.acquireConnection();
    await db.client.releaseConnection(conn);
    return conn as object;
  };

  it('When commits come, then the worker checkpoints them, and every row is in the file after the database is closed', async () => {
    const body = 'x'.repeat(2_000);
    const checkpointer = checkpointerOf(await connection())!;
    // Five rounds of as many commits as ask for one checkpoint: autocommit writes, then transactions of two.
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < CHECKPOINT_EVERY_COMMITS; i++) {
        if (round < 3) await db('t').insert({ body });
        else await db.transaction(async (trx) => void (await trx('t').insert([{ body }, { body }])));
      }
      await checkpointer.idle();
    }

    expect(checkpointer.stats).toEqual({ checkpoints: 5, frames: expect.any(Number), failures: 0 });
    expect(checkpointer.stats.frames).toBeGreaterThan(5 * CHECKPOINT_EVERY_COMMITS);

    await db.destroy();
    const reader = new Database(file, { readonly: true });
    expect(reader.prepare('select count(*) as n from t').get()).toEqual({ n: 7 * CHECKPOINT_EVERY_COMMITS });
    reader.close();
    db = createDb({ database: { client: 'better-sqlite3', filename: file }, dbPoolMax: 1 } as Parameters<typeof createDb>[0]);
  });

  it('When the worker cannot open the database, then the failure is counted and later requests are answered too', async () => {
    const broken = new WalCheckpointer(join(dir, 'no-such-dir', 'x.sqlite'), 1);
    broken.committed();
    await broken.idle();
    expect(broken.stats).toEqual({ checkpoints: 0, frames: 0, failures: 1 });
    broken.committed();
    await broken.idle();
    expect(broken.stats.failures).toBe(2);
    await broken.stop();
  });

  it('When the database is in memory, then no checkpointer is made', async () => {
    const memory = createDb({ database: { client: 'better-sqlite3', filename: ':memory:' }, dbPoolMax: 1 } as Parameters<typeof createDb>[0]);
    const conn = await memory.client.acquireConnection();
    expect(checkpointerOf(conn as object)).toBeUndefined();
    await memory.client.releaseConnection(conn);
    await memory.destroy();
  });
});
