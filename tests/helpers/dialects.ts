/** The databases integration tests run on in this run: MariaDB (when reachable, always under CI) and SQLite. */
export type Dialect = 'mysql' | 'sqlite';

export function testDialects(): Dialect[] {
  return process.env.EVENTLY_TEST_MYSQL === '0' ? ['sqlite'] : ['mysql', 'sqlite'];
}

/** MariaDB alone: for the concurrency proofs, which mean nothing on single-writer SQLite. */
export function mysqlDialects(): Dialect[] {
  return process.env.EVENTLY_TEST_MYSQL === '0' ? [] : ['mysql'];
}
