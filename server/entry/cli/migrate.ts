import { loadConfig } from '../../config';
import { createDb, migrateLatest } from '../../db/knex';

/** `npm run migrate`: applies pending migrations and exits. */
async function run(): Promise<void> {
  const config = loadConfig();
  const db = createDb(config);
  try {
    const applied = await migrateLatest(db);
    process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Already up to date\n');
  } finally {
    await db.destroy();
  }
}

run().catch((err) => {
  process.stderr.write(`Migration failed: ${(err as Error).message}\n`);
  process.exit(1);
});
