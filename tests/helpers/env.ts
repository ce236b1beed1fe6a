import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { loadConfig, type Config } from '../../server/config';
import { createDb, type Db } from '../../server/db/knex';
import { startNode, type EventlyNode } from '../../server/entry/node';
import { ManualClock } from '../../server/shared/clock';
import { createLogger } from '../../server/shared/logger';
import type { AuthUser, Role } from '../../server/shared/auth-user';
import { rectangularSection } from '../../server/venues/layout-generator';
import type { Dialect } from './dialects';
import { createMysqlDatabase } from './mysql';

export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123456789';

export interface TestEnv {
  dialect: Dialect;
  nodes: EventlyNode[];
  /** Shared by every node: `clock.advance(ms)` moves time for all of them. */
  clock: ManualClock;
  /** A separate connection for assertions about what the database holds. */
  db: Db;
  config: Config;
  stop(): Promise<void>;
}

export interface TestEnvOptions {
  dialect: Dialect;
  nodes?: number;
  /** Connect the nodes through Redis (Socket.IO adapter); a unique key prefix isolates this test file. */
  redis?: boolean;
  /**
   * Connect the nodes through a Redis Cluster instead (REDIS_CLUSTER_NODES, sharded adapter): the seed list of a
   * cluster started with scripts/redis-cluster.ts. A unique key prefix isolates this test file.
   */
  redisClusterNodes?: string;
  /** Connections per node's pool. Default 2: leaks of a connection outside its transaction show up as hangs. */
  poolMax?: number;
  env?: Record<string, string>;
  /** Run each node's hold sweeper and waitlist ticker (default true). Off for tests about "before the sweep". */
  sweeper?: boolean;
  /** Seeds the waiting room's lobby draws (see server/queue/random.ts). */
  queueRandom?: () => number;
}

/**
 * Starts `nodes` Evently nodes on port 0 sharing one fresh database (a new MariaDB database, or a temp
 * SQLite file) and, with `redis`, one Redis (with `redisClusterNodes`, a Redis Cluster). Call `stop()` in afterAll.
 */
export async function startTestEnv(opts: TestEnvOptions): Promise<TestEnv> {
  let databaseUrl: string;
  let dropDb: () => Promise<void>;
  if (opts.dialect === 'mysql') {
    const created = await createMysqlDatabase();
    databaseUrl = created.url;
    dropDb = created.drop;
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'evently-test-'));
    databaseUrl = `sqlite:${join(dir, 'test.sqlite')}`;
    dropDb = async () => rmSync(dir, { recursive: true, force: true });
  }
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: databaseUrl,
    DB_POOL_MAX: String(opts.poolMax ?? 2),
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    SEED_DEMO: 'false',
    SWEEP_INTERVAL_MS: '50',
    BROADCAST_BATCH_MS: '10',
    // Every test client comes from 127.0.0.1: the per-IP hold cap is off unless a test is about it.
    HOLD_CAP_PER_IP: '0',
    // The webhook tests drive dispatchers of their own with the clock; elsewhere no node polls the outbox.
    WEBHOOKS_DISPATCHER: 'false',
    // Test receivers listen on 127.0.0.1; webhook-targets.test.ts turns this off to test the refusal.
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    ...(opts.redisClusterNodes ? { REDIS_CLUSTER_NODES: opts.redisClusterNodes, REDIS_KEY_PREFIX: `evently-test-${randomBytes(4).toString('hex')}` } : {}),
    ...(opts.redis ? { REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', REDIS_KEY_PREFIX: `evently-test-${randomBytes(4).toString('hex')}` } : {}),
    ...opts.env,
  });
  const clock = new ManualClock();
  const logger = createLogger(config.logLevel);
  const nodes: EventlyNode[] = [];
  for (let i = 0; i < (opts.nodes ?? 1); i++) {
    nodes.push(await startNode(config, { clock, logger: logger.child({ node: i }), skipMigrations: i > 0, sweeper: opts.sweeper, queueRandom: opts.queueRandom }));
  }
  const db = createDb({ database: config.database, dbPoolMax: 4 });
  return {
    dialect: opts.dialect,
    nodes,
    clock,
    db,
    config,
    stop: async () => {
      await Promise.all(nodes.map((n) => n.close()));
      await db.destroy();
      await dropDb();
    },
  };
}

/** A user of `createUsers` as the acting user a service method takes (a token that never expires). */
export const actorOf = (u: { id: number; email: string }, role: Role = 'user'): AuthUser => ({ id: u.id, role, email: u.email, name: u.email, expiresAt: Number.MAX_SAFE_INTEGER, tokenVersion: 0 });

let cachedHash: string | undefined;

/** Creates users straight in the database (one shared bcrypt hash) and signs their tokens: fast for crowds. */
export async function createUsers(env: TestEnv, count: number, role: Role = 'user'): Promise<{ id: number; token: string; email: string }[]> {
  cachedHash ??= bcrypt.hashSync('password-123', 10);
  const tag = randomBytes(4).toString('hex');
  const rows = Array.from({ length: count }, (_, i) => ({
    email: `${role}-${tag}-${i}@example.com`,
    name: `${role} ${i}`,
    password_hash: cachedHash!,
    role,
    created_at: env.clock.now(),
  }));
  for (let i = 0; i < rows.length; i += 200) await env.db('users').insert(rows.slice(i, i + 200));
  const saved = await env.db('users').whereIn('email', rows.map((r) => r.email)).orderBy('id').select('id', 'email', 'name', 'role');
  const tokens = env.nodes[0]!.services.tokens;
  return saved.map((u) => ({ id: u.id, email: u.email, token: tokens.sign({ id: u.id, role: u.role, email: u.email, name: u.name }) }));
}

export interface SeededEvent {
  eventId: number;
  venueId: number;
  /** Seat ids in row-major order. */
  seatIds: number[];
}

/** A venue with one rectangular section and an on-sale event over it. */
export async function seedEvent(
  env: TestEnv,
  opts: { rows?: number; seatsPerRow?: number; holdTtlSeconds?: number; maxSeatsPerOrder?: number; maxSeatsPerUser?: number; status?: 'draft' | 'on_sale'; startsInMs?: number } = {},
): Promise<SeededEvent> {
  const services = env.nodes[0]!.services;
  const venue = await services.venues.create({
    name: `Test Hall ${randomBytes(3).toString('hex')}`,
    layout: {
      sections: [rectangularSection({ name: 'Main', rows: opts.rows ?? 4, seatsPerRow: opts.seatsPerRow ?? 10, category: (r) => (r === 0 ? 'front' : 'standard') })],
    },
  });
  const event = await services.events.create({
    venueId: venue.id,
    name: 'Test Event',
    startsAt: new Date(env.clock.now() + (opts.startsInMs ?? 7 * 24 * 3600 * 1000)).toISOString(),
    status: opts.status ?? 'on_sale',
    holdTtlSeconds: opts.holdTtlSeconds ?? 600,
    maxHoldLifeSeconds: 1800,
    maxSeatsPerOrder: opts.maxSeatsPerOrder ?? 10,
    maxSeatsPerUser: opts.maxSeatsPerUser ?? 10,
    prices: [
      { category: 'front', priceCents: 5000 },
      { category: 'standard', priceCents: 3000 },
    ],
  });
  const seats = await env.db('seats').where({ venue_id: venue.id }).orderBy('id').select('id');
  return { eventId: event.id, venueId: venue.id, seatIds: seats.map((s) => s.id) };
}
