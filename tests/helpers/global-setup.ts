import { mysqlAvailability } from './mysql';

/**
 * Decides once per run whether MariaDB is reachable. Unreachable: loud warning and SQLite only, except
 * under CI=true where it is a failure (the concurrency proofs must run there).
 */
export default async function globalSetup(): Promise<void> {
  const status = await mysqlAvailability();
  if (status.ok) {
    process.env.EVENTLY_TEST_MYSQL = '1';
    return;
  }
  if (process.env.CI === 'true') {
    throw new Error(`MariaDB is unreachable at ${status.url} (${status.reason}); CI requires it. Start it: start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd`);
  }
  process.env.EVENTLY_TEST_MYSQL = '0';
  const bar = '!'.repeat(100);
  process.stderr.write(`\n${bar}\n!! MariaDB is UNREACHABLE at ${status.url} (${status.reason}).\n!! Running the SQLite suite ONLY: the concurrency proofs on MariaDB are NOT being run.\n${bar}\n\n`);
}
