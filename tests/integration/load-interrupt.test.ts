import { spawn } from 'node:child_process';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { describeEach, mysqlDialects } from '../helpers/dialects';
import { TEST_MYSQL_URL } from '../helpers/mysql';

const ROOT = join(__dirname, '..', '..');

/** The load generator stopped with Ctrl-C cleans up after itself: a real CLI process, a real MariaDB. */
describeEach(mysqlDialects(), 'load generator interrupted (%s)', () => {
  const databaseExists = async (name: string): Promise<boolean> => {
    const conn = await mysql.createConnection({ uri: TEST_MYSQL_URL });
    try {
      const [rows] = await conn.query('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name]);
      return (rows as unknown[]).length > 0;
    } finally {
      await conn.end();
    }
  };

  it('When a run gets SIGINT, then it drops the database it created and exits 130', async () => {
    const args = ['flash-sale', '--buyers', '4', '--seats', '4', '--watchers', '0', '--duration', '60', '--baseline', 'false', '--progress', 'false', '--write', 'false', '--mysql-url', TEST_MYSQL_URL];
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'load/cli.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let stderr = '';
    // The generator names its database once the nodes are up; the sale is then running for a minute.
    const name = await new Promise<string>((resolve, reject) => {
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /database (evently_load_\w+)/.exec(stderr);
        if (m) resolve(m[1]!);
      });
      void exited.then(() => reject(new Error(`the generator exited before naming its database:\n${stderr}`)));
    });
    try {
      expect(await databaseExists(name)).toBe(true);

      child.kill('SIGINT');
      // The exit code with what the generator printed, so a failure says which way the run ended.
      expect({ code: await exited, stderr }).toEqual({ code: 130, stderr: expect.stringMatching(/SIGINT: stopping the nodes and dropping the run's database/) });
      expect(await databaseExists(name)).toBe(false);
    } finally {
      // Whatever happened above, nothing of this run outlives the test.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      const conn = await mysql.createConnection({ uri: TEST_MYSQL_URL });
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await conn.end();
    }
  }, 90_000);
});
