import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDb, type Db } from '../../server/db/knex';
import { createMysqlDatabase } from './mysql';

/**
 * An empty database of its own for a test of the data layer (no migrations): a fresh MariaDB database or a SQLite
 * file in a temp directory. `drop` removes it; destroy `db` first.
 */
export async function openScratchDb(dialect: 'mysql' | 'sqlite', prefix = 'evently-scratch-'): Promise<{ db: Db; drop: () => Promise<void> }> {
  if (dialect === 'mysql') {
    const created = await createMysqlDatabase();
    return { db: createDb({ database: { client: 'mysql2', url: created.url }, dbPoolMax: 4 }), drop: created.drop };
  }
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    db: createDb({ database: { client: 'better-sqlite3', filename: join(dir, 't.sqlite') }, dbPoolMax: 1 } as Parameters<typeof createDb>[0]),
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}
