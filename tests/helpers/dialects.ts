/** The databases integration tests run on in this run: MariaDB (when reachable, always under CI) and SQLite. */
export type Dialect = 'mysql' | 'sqlite';

/**
 * Whether this run has MariaDB. Decided once by global-setup.ts (which fails the run under CI=true when it is
 * unreachable) and passed to the workers through the environment. A test file imported without the global
 * setup (e.g. `npx jest --globalSetup=''`) assumes MariaDB is there, so a missing server fails loudly.
 */
export function mysqlAvailable(): boolean {
  return process.env.EVENTLY_TEST_MYSQL !== '0';
}

export function testDialects(): Dialect[] {
  return mysqlAvailable() ? ['mysql', 'sqlite'] : ['sqlite'];
}

/** MariaDB alone: for the concurrency proofs, which mean nothing on single-writer SQLite. */
export function mysqlDialects(): Dialect[] {
  return mysqlAvailable() ? ['mysql'] : [];
}

/**
 * `describe.each(cases)(title, fn)` that also works when `cases` is empty. Jest refuses an empty `.each` and
 * then fails the whole file, SQLite tests included; without MariaDB a MariaDB-only block is reported as a
 * `todo` (visible in the summary as not run) instead, and the rest of the file runs.
 */
export function describeEach<T>(cases: readonly T[], title: string, fn: (c: T) => void): void {
  if (cases.length > 0) {
    describe.each(cases as T[])(title, (c: T) => fn(c));
    return;
  }
  describe(`${title.replace(/%s|\$\w+/g, 'mysql')} [not run: MariaDB unreachable]`, () => {
    it.todo('needs MariaDB on TEST_MYSQL_URL (see the warning at the start of the run)');
  });
}
