import { z } from 'zod';

export const SCENARIOS = ['flash-sale', 'hot-seat', 'fan-out', 'join-storm', 'soak', 'login-storm', 'queue'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const prob = z.coerce.number().min(0).max(1);

/**
 * Every option; unset ones take the scenario's defaults (see DEFAULTS), sized for a 2-core machine shared with
 * other work. Full sizes are a flag away (e.g. `--watchers 10000`).
 */
export const optionsSchema = z
  .object({
    nodes: int(1, 16).optional(),
    buyers: int(1, 100_000).optional(),
    seats: int(1, 100_000).optional(),
    watchers: int(0, 100_000).optional(),
    clients: int(1, 100_000).optional(),
    contenders: z
      .string()
      .regex(/^\d+(,\d+)*$/, 'comma-separated counts, e.g. 8,256')
      .optional(),
    duration: z.coerce.number().min(1).max(3600).optional(),
    strategy: z.enum(['random', 'hotspot', 'best']).optional(),
    seatsPerHold: int(1, 100).optional(),
    bookProbability: prob.optional(),
    expireProbability: prob.optional(),
    holdTtl: int(5, 3600).optional(),
    thinkMs: int(0, 60_000).optional(),
    rate: z.coerce.number().min(0.1).max(10_000).optional(),
    joinWindowMs: int(0, 600_000).optional(),
    pool: int(1, 200).optional(),
    connectConcurrency: int(1, 10_000).optional(),
    /** Child processes the watchers (and join-storm clients) are spread over; default one per 4,000 sockets. */
    clientProcs: int(1, 64).optional(),
    memoryConnections: int(0, 50_000).optional(),
    /** Waiting room (queue scenario): most buyers shopping at once, admissions per minute, shopping window (s). */
    maxActive: int(1, 1_000_000).optional(),
    admitPerMinute: int(1, 1_000_000).optional(),
    window: int(60, 14_400).optional(),
    /**
     * Run each node in a child process of its own (load/node-process.ts), as production does, instead of in the
     * generator's thread: each gets its own event loop and its own 20,000 descriptors.
     */
    nodeProcs: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
    baseline: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
    memory: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
    /** Watchers sign in as box office (their batches carry holders, read from the database) or watch anonymously. */
    watcherRole: z.enum(['box_office', 'anonymous']).default('box_office'),
    /** Seat-state form clients ask for (issue 11): compact (layout order, binary) or today's JSON. Staff always get JSON. */
    format: z.enum(['json', 'compact']).default('compact'),
    dialect: z.enum(['mysql', 'sqlite']).default('mysql'),
    url: z.string().url().optional(),
    databaseUrl: z.string().regex(/^(mysql:\/\/.+|sqlite:.+)$/).optional(),
    mysqlUrl: z.string().default(process.env.LOAD_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306'),
    redisUrl: z.string().default(process.env.LOAD_REDIS_URL ?? 'redis://127.0.0.1:6379'),
    /** Start a local Redis Cluster (3 masters + 3 replicas) for the run and connect the nodes through it. */
    redisCluster: z.enum(['true', 'false']).transform((v) => v === 'true').default(false),
    out: z.string().default('load/results'),
    progress: z.enum(['true', 'false']).transform((v) => v === 'true').default(true),
    write: z.enum(['true', 'false']).transform((v) => v === 'true').default(true),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'silent']).default('error'),
    /** Extra server environment, KEY=VALUE (repeatable), e.g. rate limits. */
    env: z.array(z.string().regex(/^[A-Z0-9_]+=.*$/)).default([]),
  })
  .strict();

export type RawOptions = z.infer<typeof optionsSchema>;

export interface Options {
  nodes: number;
  buyers: number;
  seats: number;
  watchers: number;
  clients: number;
  contenders: number[];
  duration: number;
  strategy: 'random' | 'hotspot' | 'best';
  seatsPerHold: number;
  bookProbability: number;
  expireProbability: number;
  holdTtl: number;
  thinkMs: number;
  rate: number;
  joinWindowMs: number;
  pool: number;
  connectConcurrency: number;
  /** Unset: one client process per 4,000 sockets (load/workers.ts, SOCKETS_PER_PROCESS). */
  clientProcs?: number;
  memoryConnections: number;
  maxActive: number;
  admitPerMinute: number;
  window: number;
  nodeProcs: boolean;
  baseline: boolean;
  memory: boolean;
  watcherRole: 'box_office' | 'anonymous';
  format: 'json' | 'compact';
  dialect: 'mysql' | 'sqlite';
  url?: string;
  databaseUrl?: string;
  mysqlUrl: string;
  redisUrl: string;
  redisCluster: boolean;
  out: string;
  progress: boolean;
  write: boolean;
  logLevel: string;
  env: Record<string, string>;
}

type Defaults = Omit<Options, 'watcherRole' | 'format' | 'dialect' | 'url' | 'databaseUrl' | 'mysqlUrl' | 'redisUrl' | 'redisCluster' | 'out' | 'progress' | 'write' | 'logLevel' | 'env'>;

const base: Defaults = {
  nodes: 1,
  buyers: 100,
  seats: 1000,
  watchers: 0,
  clients: 0,
  contenders: [],
  duration: 60,
  strategy: 'random',
  seatsPerHold: 2,
  bookProbability: 0.7,
  expireProbability: 0.1,
  holdTtl: 5,
  thinkMs: 0,
  rate: 10,
  joinWindowMs: 1000,
  pool: 10,
  connectConcurrency: 100,
  memoryConnections: 0,
  maxActive: 100,
  admitPerMinute: 1200,
  window: 60,
  nodeProcs: false,
  baseline: true,
  memory: false,
};

/** Per-scenario defaults: the sizes where they fit 2 cores, otherwise noted in load/README.md. */
export const DEFAULTS: Record<ScenarioName, Defaults> = {
  'flash-sale': { ...base, nodes: 2, buyers: 2000, seats: 1000, watchers: 20, duration: 60, strategy: 'hotspot', holdTtl: 30, expireProbability: 0.05 },
  'hot-seat': { ...base, nodes: 1, seats: 10, contenders: [8, 256], duration: 15, seatsPerHold: 1, bookProbability: 0, expireProbability: 0 },
  'fan-out': { ...base, nodes: 1, seats: 1000, watchers: 2000, rate: 10, duration: 20, connectConcurrency: 200 },
  'join-storm': { ...base, nodes: 1, seats: 20_000, clients: 1000, joinWindowMs: 1000 },
  // Buyers cycle hold -> release on one event, first quietly, then while sign-ins arrive at --rate per second.
  'login-storm': { ...base, nodes: 1, buyers: 100, seats: 1000, duration: 15, rate: 25, thinkMs: 50, bookProbability: 0, expireProbability: 0, baseline: false },
  // 20,000 queued buyers over 2 nodes in processes of their own; 80% book, 10% idle out their window, 10% leave.
  // maxActive 400 leaves the per-minute rate as the limit for the minute measured (`--max-active 50` shows the other).
  queue: { ...base, nodes: 2, clients: 20_000, seats: 5000, duration: 60, bookProbability: 0.8, expireProbability: 0.1, connectConcurrency: 400, nodeProcs: true, baseline: false, maxActive: 400 },
  soak: { ...base, nodes: 2, buyers: 200, seats: 2000, watchers: 20, duration: 60, thinkMs: 500, bookProbability: 0, expireProbability: 0.1, memory: true, memoryConnections: 1000 },
};

export function resolveOptions(scenario: ScenarioName, raw: RawOptions): Options {
  const d = DEFAULTS[scenario];
  const env: Record<string, string> = {};
  for (const kv of raw.env) {
    const i = kv.indexOf('=');
    env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return {
    ...d,
    ...Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)),
    contenders: raw.contenders ? raw.contenders.split(',').map(Number) : d.contenders,
    env,
  } as Options;
}
