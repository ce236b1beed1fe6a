import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../server/config';

describe('configuration', () => {
  it('defaults to the embedded SQLite setup with demo seeding', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.database).toEqual({ client: 'better-sqlite3', filename: './data/evently.sqlite' });
    expect(c.seedDemo).toBe(true);
    expect(c.redisUrl).toBeUndefined();
    expect(c.jwt.secret.length).toBeGreaterThanOrEqual(32);
  });

  it('When CORS_ORIGINS lists origins, then they are read trimmed', () => {
    expect(loadConfig({ CORS_ORIGINS: ' https://a.example.com , http://localhost:5173' }).corsOrigins).toEqual(['https://a.example.com', 'http://localhost:5173']);
  });

  it('never seeds MySQL unless SEED_DEMO=true', () => {
    const env = { DATABASE_URL: 'mysql://root@127.0.0.1:3306/x', JWT_SECRET: 'x'.repeat(32) };
    expect(loadConfig(env).seedDemo).toBe(false);
    expect(loadConfig({ ...env, SEED_DEMO: 'true' }).seedDemo).toBe(true);
  });

  it('reads REDIS_CLUSTER_NODES as seed nodes of a Redis Cluster', () => {
    const c = loadConfig({ REDIS_CLUSTER_NODES: 'redis-1:7000,10.0.0.2:7001', JWT_SECRET: 'x'.repeat(32) });
    expect(c.redisClusterNodes).toEqual([
      { host: 'redis-1', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
    ]);
    expect(c.redisUrl).toBeUndefined();
  });

  it('When the webhook variables are set, then the dispatcher is configured from them (on by default)', () => {
    expect(loadConfig({}).webhooks).toEqual({ dispatcher: true, pollIntervalMs: 1000, batchSize: 25, timeoutMs: 10000, allowPrivateTargets: false });
    const c = loadConfig({ WEBHOOKS_DISPATCHER: 'false', WEBHOOK_POLL_INTERVAL_MS: '250', WEBHOOK_BATCH_SIZE: '100', WEBHOOK_TIMEOUT_MS: '5000', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' });
    expect(c.webhooks).toEqual({ dispatcher: false, pollIntervalMs: 250, batchSize: 100, timeoutMs: 5000, allowPrivateTargets: true });
  });

  it('When the hold queue variables are set, then new holds are shed by them (2 s expected wait, 5000 queued by default)', () => {
    expect(loadConfig({})).toMatchObject({ holdQueueWaitMs: 2000, holdQueueMax: 5000, dbQueueMax: 500 });
    expect(loadConfig({ HOLD_QUEUE_WAIT_MS: '0', HOLD_QUEUE_MAX: '200' })).toMatchObject({ holdQueueWaitMs: 0, holdQueueMax: 200 });
    expect(loadConfig({}).seatBatch).toEqual({ maxCommands: 100, maxSeats: 1000 });
    const mysql = { DATABASE_URL: 'mysql://u:p@db:3306/evently', JWT_SECRET: 'x'.repeat(32) };
    expect(loadConfig({ ...mysql, SEAT_BATCH_MAX_COMMANDS: '1000', SEAT_BATCH_MAX_SEATS: '5000' }).seatBatch).toEqual({ maxCommands: 1000, maxSeats: 5000 });
    // SQLite's statements have a bindings limit: a batch bigger than the tested size is refused at start, not mid-sale.
    expect(() => loadConfig({ SEAT_BATCH_MAX_SEATS: '5000' })).toThrow(/SEAT_BATCH_MAX_SEATS is at most 1000 on SQLite/);
    expect(() => loadConfig({ SEAT_BATCH_MAX_COMMANDS: '0' })).toThrow(/SEAT_BATCH_MAX_COMMANDS/);
    expect(() => loadConfig({ HOLD_QUEUE_WAIT_MS: '-1' })).toThrow(/HOLD_QUEUE_WAIT_MS/);
    expect(() => loadConfig({ HOLD_QUEUE_MAX: 'many' })).toThrow(/HOLD_QUEUE_MAX/);
  });

  it('When the broadcast windows are set, then a busy node widens them up to BROADCAST_MAX_BATCH_MS (20 and 200 ms by default)', () => {
    expect(loadConfig({})).toMatchObject({ broadcastBatchMs: 20, broadcastMaxBatchMs: 200 });
    expect(loadConfig({ BROADCAST_BATCH_MS: '50', BROADCAST_MAX_BATCH_MS: '50' })).toMatchObject({ broadcastBatchMs: 50, broadcastMaxBatchMs: 50 });
    expect(() => loadConfig({ BROADCAST_MAX_BATCH_MS: '-1' })).toThrow(/BROADCAST_MAX_BATCH_MS/);
    expect(() => loadConfig({ BROADCAST_MAX_BATCH_MS: '5001' })).toThrow(/BROADCAST_MAX_BATCH_MS/);
  });

  it.each([
    [{ WEBHOOKS_DISPATCHER: 'maybe' }, /WEBHOOKS_DISPATCHER/],
    [{ WEBHOOK_POLL_INTERVAL_MS: '10' }, /WEBHOOK_POLL_INTERVAL_MS/],
    [{ WEBHOOK_BATCH_SIZE: '0' }, /WEBHOOK_BATCH_SIZE/],
    [{ WEBHOOK_TIMEOUT_MS: '60000' }, /WEBHOOK_TIMEOUT_MS/],
    [{ PORT: 'abc' }, /PORT/],
    [{ PORT: '70000' }, /PORT/],
    [{ DATABASE_URL: 'postgres://x' }, /DATABASE_URL must be mysql:\/\//],
    [{ DATABASE_URL: 'mysql://root@h/db' }, /JWT_SECRET is required/],
    [{ DATABASE_URL: 'mysql://root@h/db', JWT_SECRET: 'short' }, /JWT_SECRET must be at least 32/],
    [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL must be redis:\/\//],
    [{ NODE_ENV: 'production' }, /JWT_SECRET is required/],
    [{ SEED_DEMO: 'maybe' }, /SEED_DEMO/],
    [{ REDIS_CLUSTER_NODES: 'redis://h:7000' }, /REDIS_CLUSTER_NODES must be host:port/],
    [{ REDIS_CLUSTER_NODES: 'h1:7000,' }, /REDIS_CLUSTER_NODES must be host:port/],
    [{ REDIS_CLUSTER_NODES: 'h1:70000', JWT_SECRET: 'x'.repeat(32) }, /REDIS_CLUSTER_NODES has port 70000/],
    [{ REDIS_CLUSTER_NODES: 'h1:7000', REDIS_URL: 'redis://h:6379', JWT_SECRET: 'x'.repeat(32) }, /REDIS_URL .* or REDIS_CLUSTER_NODES .*not both/],
    [{ REDIS_CLUSTER_NODES: 'h1:7000' }, /JWT_SECRET is required/],
    [{ CORS_ORIGINS: 'notanorigin' }, /CORS_ORIGINS entry "notanorigin" is not an origin/],
    [{ CORS_ORIGINS: 'https://ok.example.com,https://bad.example.com/' }, /CORS_ORIGINS entry "https:\/\/bad.example.com\/" is not an origin/],
    [{ CORS_ORIGINS: 'ftp://files.example.com' }, /CORS_ORIGINS entry/],
  ])('rejects %j with one line naming the variable', (env, message) => {
    expect(() => loadConfig(env as NodeJS.ProcessEnv)).toThrow(ConfigError);
    expect(() => loadConfig(env as NodeJS.ProcessEnv)).toThrow(message);
  });

  it('exits non-zero with that one line when the process starts with bad configuration', () => {
    const root = join(__dirname, '..', '..');
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'server', 'entry', 'main.ts')], {
      cwd: root,
      env: { PATH: process.env.PATH, DATABASE_URL: 'mysql://root@127.0.0.1/x', PORT: '1' },
      encoding: 'utf8',
      timeout: 30000,
    });
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Invalid configuration: JWT_SECRET is required/);
  });
});
