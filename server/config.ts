import { z } from 'zod';

/**
 * The whole configuration, read from the environment once at start-up. A bad value stops the process with
 * one line that names the variable and says how to fix it (see entry/main.ts).
 */
const boolish = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/**
 * A seat batch's caps when SEAT_BATCH_MAX_COMMANDS and SEAT_BATCH_MAX_SEATS are not set, and InventoryService's
 * when it is built without them (why these sizes: inventory/service.ts).
 */
export const SEAT_BATCH_DEFAULTS = { maxCommands: 100, maxSeats: 1000 } as const;

/**
 * How many holds may queue for one event's next batch, and how long one may expect to wait there before it is
 * refused BUSY, when HOLD_QUEUE_MAX and HOLD_QUEUE_WAIT_MS are not set; also InventoryService's defaults.
 */
export const HOLD_QUEUE_DEFAULTS = { maxQueuedHolds: 5000, maxQueueWaitMs: 2000 } as const;

const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    HOST: z.string().min(1).default('0.0.0.0'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    DATABASE_URL: z
      .string()
      .regex(/^(mysql:\/\/.+|sqlite:.+)$/, 'must be mysql://user:pass@host:port/db or sqlite:<path>')
      .default('sqlite:./data/evently.sqlite'),
    DB_POOL_MAX: z.coerce.number().int().min(1).max(500).default(10),
    DB_QUEUE_MAX: z.coerce.number().int().min(0).max(100000).default(500),
    HOLD_QUEUE_MAX: z.coerce.number().int().min(0).max(100000).default(HOLD_QUEUE_DEFAULTS.maxQueuedHolds),
    HOLD_QUEUE_WAIT_MS: z.coerce.number().int().min(0).max(60000).default(HOLD_QUEUE_DEFAULTS.maxQueueWaitMs),
    SEAT_BATCH_MAX_COMMANDS: z.coerce.number().int().min(1).max(5000).default(SEAT_BATCH_DEFAULTS.maxCommands),
    SEAT_BATCH_MAX_SEATS: z.coerce.number().int().min(1).max(20000).default(SEAT_BATCH_DEFAULTS.maxSeats),
    REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be redis://host:port').optional(),
    // Seed nodes of a Redis Cluster (any few masters or replicas; the client discovers the rest).
    REDIS_CLUSTER_NODES: z
      .string()
      .regex(/^[A-Za-z0-9.-]+:[0-9]{1,5}(,[A-Za-z0-9.-]+:[0-9]{1,5})*$/, 'must be host:port[,host:port...] (seed nodes of a Redis Cluster)')
      .optional(),
    REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 : _ -').default('evently'),
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters (try: openssl rand -base64 48)').optional(),
    JWT_TTL_SECONDS: z.coerce.number().int().min(60).max(30 * 24 * 3600).default(12 * 3600),
    SEED_DEMO: boolish.optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    CORS_ORIGINS: z.string().optional(),
    SWEEP_INTERVAL_MS: z.coerce.number().int().min(20).max(60000).default(250),
    BROADCAST_BATCH_MS: z.coerce.number().int().min(0).max(1000).default(20),
    // The widest window while an event's broadcasts are spaced by their cost (realtime/broadcast-pacing.ts).
    BROADCAST_MAX_BATCH_MS: z.coerce.number().int().min(0).max(5000).default(200),
    TRUST_PROXY: boolish.default(false),
    // Rate limits (0 turns one off). Defaults are generous: they stop abuse, not a busy on-sale.
    RATE_LIMIT_LOGIN_FAILURES: z.coerce.number().int().min(0).max(100000).default(10),
    RATE_LIMIT_LOGIN_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86400).default(900),
    RATE_LIMIT_REST_PER_MINUTE: z.coerce.number().int().min(0).max(10000000).default(3000),
    RATE_LIMIT_SOCKET_PER_SECOND: z.coerce.number().int().min(0).max(100000).default(100),
    RATE_LIMIT_HOLD_PER_SECOND: z.coerce.number().int().min(0).max(100000).default(50),
    // Registrations per client IP per window. Shared Wi-Fi and carrier NAT put many people behind one IP, so the
    // default only stops scripted sign-up sprees; 0 turns it off.
    RATE_LIMIT_REGISTER_PER_IP: z.coerce.number().int().min(0).max(100000).default(20),
    RATE_LIMIT_REGISTER_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86400).default(600),
    AUTH_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
    // Seats one client address may hold live per event, across all its accounts. A household or a small office
    // behind one NAT stays well under it; one person with twenty accounts does not. 0 turns it off.
    HOLD_CAP_PER_IP: z.coerce.number().int().min(0).max(100000).default(40),
    /** After SIGTERM, keep serving (readyz 503) this long so the balancer stops routing here first. */
    SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).max(60000).default(0),
    // Webhooks (docs/WEBHOOKS.md): every node may run the dispatcher; they share the work through the database.
    WEBHOOKS_DISPATCHER: boolish.default(true),
    WEBHOOK_POLL_INTERVAL_MS: z.coerce.number().int().min(50).max(60000).default(1000),
    WEBHOOK_BATCH_SIZE: z.coerce.number().int().min(1).max(500).default(25),
    WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(500).max(30000).default(10000),
    WEBHOOK_ALLOW_PRIVATE_TARGETS: boolish.default(false),
  })
  .passthrough();

export interface Config {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  database: { client: 'mysql2'; url: string } | { client: 'better-sqlite3'; filename: string };
  dbPoolMax: number;
  /** Requests waiting for a pool connection beyond which new commands are answered BUSY (0: never). */
  dbQueueMax: number;
  /** New holds waiting for one event's next seat batch on a node beyond which more are refused BUSY (0: never). */
  holdQueueMax: number;
  /** A new hold whose expected wait for its seat batch is longer than this (ms) is refused BUSY (0: never). */
  holdQueueWaitMs: number;
  /** Most commands, and most seats, one group-committed seat batch takes (docs/OPERATIONS.md). */
  seatBatch: { maxCommands: number; maxSeats: number };
  redisUrl?: string;
  /**
   * Seed nodes of a Redis Cluster (REDIS_CLUSTER_NODES). With them the nodes use ioredis Cluster clients and
   * Socket.IO's sharded adapter (Redis 7 sharded pub/sub). Never set together with `redisUrl`.
   */
  redisClusterNodes?: RedisNode[];
  /** Prefix of every Redis key and channel, so several deployments (or test runs) can share one Redis. */
  redisKeyPrefix: string;
  jwt: { secret: string; ttlSeconds: number; issuer: string; audience: string };
  /** Seed the demo venue, event and accounts when the database has no users. */
  seedDemo: boolean;
  logLevel: string;
  /** Origins allowed for CORS and the Socket.IO handshake; empty means same-origin only. */
  corsOrigins: string[];
  sweepIntervalMs: number;
  broadcastBatchMs: number;
  /** The widest seat-change window on a busy node (BROADCAST_MAX_BATCH_MS; at broadcastBatchMs or below: no widening). */
  broadcastMaxBatchMs: number;
  trustProxy: boolean;
  /**
   * How long a node trusts a user's role/active/token version without reading it again. Changes are pushed to
   * every node at once (Redis pub/sub); this only bounds staleness if such a message is lost. 0: read every time.
   */
  authCacheSeconds: number;
  /** Seats one client address may hold live per event (0: no cap). */
  holdCapPerIp: number;
  /** Shared across nodes through Redis when REDIS_URL or REDIS_CLUSTER_NODES is set (server/ratelimit). */
  rateLimits: {
    login: { points: number; durationSeconds: number };
    rest: { points: number; durationSeconds: number };
    socket: { points: number; durationSeconds: number };
    hold: { points: number; durationSeconds: number };
    register: { points: number; durationSeconds: number };
  };
  shutdownDrainMs: number;
  /** The webhook dispatcher: on/off, how often it polls, how many rows per round, one POST's timeout. */
  /** allowPrivateTargets: endpoints on loopback, private and reserved addresses may be registered and reached. */
  webhooks: { dispatcher: boolean; pollIntervalMs: number; batchSize: number; timeoutMs: number; allowPrivateTargets: boolean };
}

/** One Redis Cluster seed node. */
export interface RedisNode {
  host: string;
  port: number;
}

/** Parses REDIS_CLUSTER_NODES (already shape-checked by the schema); a port outside 1-65535 is a ConfigError. */
function parseClusterNodes(value: string): RedisNode[] {
  return value.split(',').map((entry) => {
    const i = entry.lastIndexOf(':');
    const port = Number(entry.slice(i + 1));
    if (port < 1 || port > 65535) throw new ConfigError(`Invalid configuration: REDIS_CLUSTER_NODES has port ${port} in "${entry}"; ports are 1-65535`);
    return { host: entry.slice(0, i), port };
  });
}

/** Thrown for a bad environment; `message` is the one line printed before exiting. */
export class ConfigError extends Error {}

/** Fixed dev-only secret for the embedded SQLite default, so `npm start` needs no setup. */
const EMBEDDED_DEV_SECRET = 'evently-embedded-development-secret-not-for-production';

/**
 * CORS_ORIGINS as browsers send `Origin`: `http(s)://host[:port]`, nothing after it. Anything else would never
 * match a request and silently refuse every cross-origin client, so it is a configuration error.
 */
function parseOrigins(raw: string): string[] {
  const origins = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const o of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(o);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.origin !== o) {
      throw new ConfigError(
        `Invalid configuration: CORS_ORIGINS entry "${o}" is not an origin; use scheme://host[:port] with no path or trailing slash, e.g. https://tickets.example.com`,
      );
    }
  }
  return origins;
}

/**
 * The most seats a SQLite seat batch may move: the seat compare-and-set binds 13 values per seat and SQLite allows
 * 32,766 per statement; 1,000 is the size tests/integration/group-commit.test.ts runs whole.
 */
const SQLITE_MAX_BATCH_SEATS = 1000;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`Invalid configuration: ${issue.path.join('.')} ${issue.message}`);
  }
  const e = parsed.data;
  if (e.REDIS_URL && e.REDIS_CLUSTER_NODES) {
    // Two fan-out channels would split the nodes into two groups that never see each other's broadcasts.
    throw new ConfigError('Invalid configuration: set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both');
  }
  const redisClusterNodes = e.REDIS_CLUSTER_NODES ? parseClusterNodes(e.REDIS_CLUSTER_NODES) : undefined;
  const isSqlite = e.DATABASE_URL.startsWith('sqlite:');
  if (isSqlite && e.SEAT_BATCH_MAX_SEATS > SQLITE_MAX_BATCH_SEATS) {
    throw new ConfigError(`Invalid configuration: SEAT_BATCH_MAX_SEATS is at most ${SQLITE_MAX_BATCH_SEATS} on SQLite (one statement's bindings)`);
  }
  const embedded = isSqlite && !e.REDIS_URL && !redisClusterNodes && e.NODE_ENV !== 'production';
  if (!e.JWT_SECRET && !embedded) {
    throw new ConfigError(
      'Invalid configuration: JWT_SECRET is required with MySQL, Redis or NODE_ENV=production; set it to 32+ random characters (openssl rand -base64 48)',
    );
  }
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    database: isSqlite
      ? { client: 'better-sqlite3', filename: e.DATABASE_URL.slice('sqlite:'.length) }
      : { client: 'mysql2', url: e.DATABASE_URL },
    dbPoolMax: e.DB_POOL_MAX,
    dbQueueMax: e.DB_QUEUE_MAX,
    holdQueueMax: e.HOLD_QUEUE_MAX,
    holdQueueWaitMs: e.HOLD_QUEUE_WAIT_MS,
    seatBatch: { maxCommands: e.SEAT_BATCH_MAX_COMMANDS, maxSeats: e.SEAT_BATCH_MAX_SEATS },
    redisUrl: e.REDIS_URL,
    redisClusterNodes,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    jwt: { secret: e.JWT_SECRET ?? EMBEDDED_DEV_SECRET, ttlSeconds: e.JWT_TTL_SECONDS, issuer: 'evently', audience: 'evently-api' },
    seedDemo: e.SEED_DEMO ?? isSqlite,
    logLevel: e.LOG_LEVEL,
    corsOrigins: e.CORS_ORIGINS ? parseOrigins(e.CORS_ORIGINS) : [],
    sweepIntervalMs: e.SWEEP_INTERVAL_MS,
    broadcastBatchMs: e.BROADCAST_BATCH_MS,
    broadcastMaxBatchMs: e.BROADCAST_MAX_BATCH_MS,
    trustProxy: e.TRUST_PROXY,
    authCacheSeconds: e.AUTH_CACHE_SECONDS,
    holdCapPerIp: e.HOLD_CAP_PER_IP,
    rateLimits: {
      login: { points: e.RATE_LIMIT_LOGIN_FAILURES, durationSeconds: e.RATE_LIMIT_LOGIN_WINDOW_SECONDS },
      rest: { points: e.RATE_LIMIT_REST_PER_MINUTE, durationSeconds: 60 },
      socket: { points: e.RATE_LIMIT_SOCKET_PER_SECOND, durationSeconds: 1 },
      hold: { points: e.RATE_LIMIT_HOLD_PER_SECOND, durationSeconds: 1 },
      register: { points: e.RATE_LIMIT_REGISTER_PER_IP, durationSeconds: e.RATE_LIMIT_REGISTER_WINDOW_SECONDS },
    },
    shutdownDrainMs: e.SHUTDOWN_DRAIN_MS,
    webhooks: { dispatcher: e.WEBHOOKS_DISPATCHER, pollIntervalMs: e.WEBHOOK_POLL_INTERVAL_MS, batchSize: e.WEBHOOK_BATCH_SIZE, timeoutMs: e.WEBHOOK_TIMEOUT_MS, allowPrivateTargets: e.WEBHOOK_ALLOW_PRIVATE_TARGETS },
  };
}
