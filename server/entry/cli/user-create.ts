import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ROLES } from '../../shared/auth-user';
import { registerBody } from '../../contracts/accounts';
import { loadConfig } from '../../config';
import { createDb, migrateLatest } from '../../db/knex';
import { silentNotifier } from '../../realtime/notifier';
import { createServices } from '../services';
import { systemClock } from '../../shared/clock';
import { createLogger } from '../../shared/logger';
import { parse } from '../../shared/validation';

/**
 * `npm run user:create -- --email a@b.c --role admin [--name "…"] [--password …]`
 * Creates staff accounts in production. Without --password one is generated and printed once.
 */
async function run(): Promise<void> {
  const { values } = parseArgs({
    options: { email: { type: 'string' }, role: { type: 'string', default: 'user' }, name: { type: 'string' }, password: { type: 'string' } },
    strict: true,
  });
  const role = parse(z.enum(ROLES), values.role, '--role');
  const password = values.password ?? (await import('node:crypto')).randomBytes(12).toString('base64url');
  const input = parse(registerBody, { email: values.email, password, name: values.name ?? values.email?.split('@')[0] ?? '' }, 'arguments');
  const config = loadConfig();
  const db = createDb(config);
  try {
    await migrateLatest(db);
    const services = createServices({ config, db, clock: systemClock, notifier: silentNotifier, logger: createLogger(config.logLevel) });
    const user = await services.accounts.createUser({ ...input, role });
    process.stdout.write(`Created ${user.role} ${user.email} (id ${user.id})${values.password ? '' : `\nPassword: ${password}`}\n`);
  } finally {
    await db.destroy();
  }
}

run().catch((err) => {
  const details = (err as { details?: { path: string; message: string }[] }).details;
  process.stderr.write(`user:create failed: ${(err as Error).message}${details ? ` (${details.map((d) => `${d.path} ${d.message}`).join('; ')})` : ''}\n`);
  process.exit(1);
});
