import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mysql from 'mysql2/promise';
import { freePort } from '../../scripts/redis-cluster';

/**
 * Private infrastructure for the fault and shutdown suites: Evently nodes as child processes, and a MariaDB
 * and a Redis of our own on free ports, which these tests may kill and restart. The shared MariaDB (3306)
 * and Redis (6379) are never touched.
 */

const ROOT = resolve(__dirname, '../..');

// One free-port helper for every locally started process (Evently nodes here, Redis Cluster nodes there).
export { freePort };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function exitOf(proc: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((res) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return res({ code: proc.exitCode, signal: proc.signalCode });
    proc.once('exit', (code, signal) => res({ code, signal }));
  });
}

export interface ChildNode {
  proc: ChildProcess;
  url: string;
  port: number;
  /** Everything the process wrote (for failure messages). */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `server/entry/main.ts` (through tsx, no build needed) as a child process on a free port and waits until
 * it prints its URL. `env` is the whole configuration (DATABASE_URL, REDIS_URL, JWT_SECRET…).
 */
export async function spawnNode(env: Record<string, string>, timeoutMs = 30000): Promise<ChildNode> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'server/entry/main.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', SEED_DEMO: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = exitOf(proc);
  const url = `http://127.0.0.1:${port}`;
  await Promise.race([
    waitFor(async () => out.includes('Evently is running at'), timeoutMs, `node on ${port} to start`),
    exited.then((e) => {
      throw new Error(`node exited during start (${JSON.stringify(e)}):\n${out}`);
    }),
  ]);
  return { proc, url, port, output: () => out, exited };
}

/** Sends SIGTERM and waits for the exit, failing after `timeoutMs`. */
export async function stopNode(node: ChildNode, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (node.proc.exitCode !== null || node.proc.signalCode !== null) return node.exited;
  node.proc.kill(signal);
  const t = setTimeout(() => node.proc.kill('SIGKILL'), timeoutMs);
  const e = await node.exited;
  clearTimeout(t);
  return e;
}

export interface PrivateMariadb {
  port: number;
  /** Server URL (root, no password: grant tables are skipped on this throw-away instance). */
  url: string;
  start(): Promise<void>;
  /** SIGTERM (clean shutdown) or SIGKILL (crash), then wait for the process to go. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Stops, then starts again on the same port and data directory. */
  restart(signal?: NodeJS.Signals): Promise<void>;
  createDatabase(name: string): Promise<string>;
  destroy(): Promise<void>;
}

/** A throw-away mariadbd with its own data directory, socket and port. Install takes a few seconds. */
export async function privateMariadb(): Promise<PrivateMariadb> {
  const dir = mkdtempSync(join(tmpdir(), 'evently-fault-mdb-'));
  const datadir = join(dir, 'data');
  execFileSync('mariadb-install-db', ['--no-defaults', `--datadir=${datadir}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db'], { stdio: 'ignore' });
  const port = await freePort();
  const url = `mysql://root@127.0.0.1:${port}`;
  let proc: ChildProcess | undefined;
  const ping = async () => {
    const c = await mysql.createConnection({ uri: url, connectTimeout: 1000 });
    await c.end();
    return true;
  };
  const self: PrivateMariadb = {
    port,
    url,
    start: async () => {
      proc = spawn(
        existsSync('/usr/sbin/mariadbd') ? '/usr/sbin/mariadbd' : 'mariadbd',
        [
          '--no-defaults',
          `--datadir=${datadir}`,
          `--port=${port}`,
          '--bind-address=127.0.0.1',
          `--socket=${join(dir, 'mysqld.sock')}`,
          `--pid-file=${join(dir, 'mysqld.pid')}`,
          '--user=root',
          '--skip-grant-tables',
          '--skip-name-resolve',
          '--skip-log-bin',
          '--innodb-buffer-pool-size=32M',
          '--innodb-lock-wait-timeout=5',
          `--log-error=${join(dir, 'error.log')}`,
        ],
        { stdio: 'ignore' },
      );
      const p = proc;
      await waitFor(async () => {
        if (p.exitCode !== null) throw new Error(`mariadbd exited: ${readFileSync(join(dir, 'error.log'), 'utf8').slice(-2000)}`);
        return ping();
      }, 30000, `private mariadbd on ${port}`);
    },
    stop: async (signal = 'SIGTERM') => {
      const p = proc;
      proc = undefined;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      p.kill(signal);
      await exitOf(p);
    },
    restart: async (signal = 'SIGTERM') => {
      await self.stop(signal);
      await self.start();
    },
    createDatabase: async (name) => {
      const c = await mysql.createConnection({ uri: url });
      await c.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      await c.end();
      return `${url}/${name}`;
    },
    destroy: async () => {
      await self.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await self.start();
  return self;
}

export interface PrivateRedis {
  port: number;
  url: string;
  start(): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
  restart(): Promise<void>;
}

/** A throw-away redis-server (no persistence) on a free port. */
export async function privateRedis(opts: { start?: boolean } = {}): Promise<PrivateRedis> {
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const self: PrivateRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    start: async () => {
      proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      const p = proc;
      await waitFor(async () => {
        if (p.exitCode !== null) throw new Error('redis-server exited');
        return execFileSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() === 'PONG';
      }, 10000, `private redis on ${port}`);
    },
    stop: async (signal = 'SIGKILL') => {
      const p = proc;
      proc = undefined;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      p.kill(signal);
      await exitOf(p);
    },
    restart: async () => {
      await self.stop();
      await self.start();
    },
  };
  if (opts.start !== false) await self.start();
  return self;
}
