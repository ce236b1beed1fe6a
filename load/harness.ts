import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import mysql from 'mysql2/promise';
import { TokenService } from '../server/accounts/tokens';
import { loadConfig, type Config } from '../server/config';
import { createDb, migrateLatest, type Db } from '../server/db/knex';
import { startNode, type EventlyNode } from '../server/entry/node';
import type { SeatState } from '../server/contracts';
import { silentNotifier } from '../server/realtime/notifier';
import { createServices, type Services } from '../server/entry/services';
import { systemClock } from '../server/shared/clock';
import pino from 'pino';
import { rectangularSection } from '../server/venues/layout-generator';
import { startRedisCluster } from '../scripts/redis-cluster';
import { NodeProcess, type ObservedNode } from './node-process';
import { wallNow } from './stats';

/** Secret used for in-process nodes; with --url the target's JWT_SECRET must be given instead. */
const LOAD_JWT_SECRET = 'load-generator-secret-load-generator-secret-0123';

export interface ClusterOptions {
  /** In-process nodes to start (ignored with `url`). */
  nodes: number;
  /** Target an already running deployment instead (needs databaseUrl and jwtSecret). */
  url?: string;
  databaseUrl?: string;
  jwtSecret?: string;
  /** 'mysql' (default: a fresh database on mysqlUrl) or 'sqlite' (a temp file; one node only). */
  dialect: 'mysql' | 'sqlite';
  /** Server with root rights where the fresh database is created. */
  mysqlUrl: string;
  redisUrl: string;
  /** Start a local Redis Cluster for the run (scripts/redis-cluster.ts) and use it instead of `redisUrl`. */
  redisCluster?: boolean;
  /** Run each node in a child process of its own (load/node-process.ts) instead of in this process. */
  nodeProcs?: boolean;
  /** DB_POOL_MAX per node. */
  poolMax: number;
  /** Extra environment for the nodes' config (e.g. rate limits). */
  env: Record<string, string>;
  logLevel: string;
}

export interface LoadUser {
  id: number;
  token: string;
}

export interface SeatInfo {
  id: number;
  row: number;
  /** 0 at the centre of the row, growing towards the aisles. */
  offCentre: number;
}

export interface SeededEvent {
  eventId: number;
  seats: SeatInfo[];
}

/**
 * The system under test: in-process Evently nodes (or the URL of a running deployment), a separate database
 * connection for setup and the audit, and hooks that observe the nodes (query count, commit times).
 */
export class Cluster {
  /** In-process nodes (the default). */
  readonly nodes: EventlyNode[] = [];
  /** Nodes in child processes (`nodeProcs`). */
  readonly procs: NodeProcess[] = [];
  urls: string[] = [];
  db!: Db;
  services!: Services;
  tokens!: TokenService;
  config!: Config;
  /** URL of the database (for baselines and child processes). */
  databaseUrl = '';
  /** The run's own database (MariaDB name or SQLite file), dropped by close(); undefined against `url`. */
  ownDatabase: string | undefined;
  private queries = 0;
  /** Commit time (wall ms) of each seat state `seatId:version`, recorded where the server hands it to the broadcaster. */
  readonly commitTimes = new Map<string, number>();
  private cleanup: (() => Promise<void>)[] = [];
  private closing?: Promise<void>;
  private passwordHash?: string;

  constructor(readonly opts: ClusterOptions) {}

  get inProcess(): boolean {
    return this.nodes.length > 0;
  }

  /** Nodes started for the run, in this process or in children (0 against `url`). */
  get nodeCount(): number {
    return this.nodes.length + this.procs.length;
  }

  /** The nodes whose group-commit metrics the scenarios read. */
  observed(): ObservedNode[] {
    return [...this.nodes, ...this.procs];
  }

  /** Brings every commit instant and query count the node processes recorded so far into this process. */
  async sync(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.sync()));
  }

  async start(): Promise<void> {
    const o = this.opts;
    if (o.url) {
      if (!o.databaseUrl || !o.jwtSecret) throw new Error('--url needs --database-url and JWT_SECRET (for users and the audit)');
      this.databaseUrl = o.databaseUrl;
      this.urls = [o.url.replace(/\/$/, '')];
    } else if (o.dialect === 'mysql') {
      const name = `evently_load_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
      const root = o.mysqlUrl.replace(/\/$/, '');
      const conn = await mysql.createConnection({ uri: root });
      await conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      await conn.end();
      this.databaseUrl = `${root}/${name}`;
      this.ownDatabase = name;
      this.cleanup.push(async () => {
        const c = await mysql.createConnection({ uri: root });
        await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
        await c.end();
      });
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'evently-load-'));
      this.databaseUrl = `sqlite:${join(dir, 'load.sqlite')}`;
      this.ownDatabase = join(dir, 'load.sqlite');
      this.cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    }
    const nodes = o.url ? 0 : o.dialect === 'sqlite' ? 1 : o.nodes;
    const prefix = `evently-load-${randomBytes(4).toString('hex')}`;
    let redisEnv: Record<string, string> = nodes > 1 ? { REDIS_URL: o.redisUrl, REDIS_KEY_PREFIX: prefix } : {};
    if (o.redisCluster && nodes > 0) {
      // Asked for explicitly, so even one node goes through the cluster (the sharded adapter's own cost).
      const redisCluster = await startRedisCluster();
      this.cleanup.push(() => redisCluster.stop());
      redisEnv = { REDIS_CLUSTER_NODES: redisCluster.seeds, REDIS_KEY_PREFIX: prefix };
    }
    const env: Record<string, string> = {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: this.databaseUrl,
      DB_POOL_MAX: String(o.poolMax),
      JWT_SECRET: o.jwtSecret ?? LOAD_JWT_SECRET,
      LOG_LEVEL: o.logLevel,
      SEED_DEMO: 'false',
      // Per-user rate limits off by default: a scenario measures the seat core, and contenders that click as
      // fast as acks come back would mostly measure the limiter. `--env RATE_LIMIT_HOLD_PER_SECOND=20` puts them back.
      RATE_LIMIT_SOCKET_PER_SECOND: '0',
      RATE_LIMIT_HOLD_PER_SECOND: '0',
      // Every simulated buyer connects from 127.0.0.1: the per-IP hold cap would measure itself. `--env HOLD_CAP_PER_IP=40` puts it back.
      HOLD_CAP_PER_IP: '0',
      ...redisEnv,
      ...o.env,
    };
    this.config = loadConfig(env);
    this.db = createDb({ database: this.config.database, dbPoolMax: 4 });
    if (!o.url) await migrateLatest(this.db);
    // Server logs go to stderr so the report on stdout stays clean.
    const logger = pino({ level: o.logLevel, base: { pid: process.pid } }, pino.destination(2));
    this.services = createServices({ config: this.config, db: this.db, clock: systemClock, notifier: silentNotifier, logger });
    this.tokens = new TokenService(this.config.jwt, systemClock);
    if (o.nodeProcs) {
      for (let i = 0; i < nodes; i++) {
        this.procs.push(new NodeProcess(env, i, (commits) => commits.forEach(([k, t]) => this.commitTimes.set(k, t))));
      }
      await Promise.all(this.procs.map((p) => p.started()));
    }
    for (let i = 0; i < (o.nodeProcs ? 0 : nodes); i++) {
      const node = await startNode(this.config, { logger: logger.child({ node: i }), skipMigrations: true });
      this.nodes.push(node);
      node.db.on('query', (q: { __knexQueryUid?: string; sql?: string }) => {
        this.queries++;
        if (this.queryTimes && q.__knexQueryUid) this.queryStarts.set(q.__knexQueryUid, { sql: q.sql ?? '', t: performance.now() });
      });
      node.db.on('query-response', (_r: unknown, q: { __knexQueryUid?: string }) => this.endQuery(q));
      node.db.on('query-error', (_e: unknown, q: { __knexQueryUid?: string }) => this.endQuery(q));
      // The seat services call the notifier right after their transaction commits: that instant is the
      // start of every broadcast-delivery measurement.
      const b = node.broadcaster;
      const original = b.seatsChanged.bind(b);
      b.seatsChanged = (eventId: number, seats: SeatState[], cursor: number) => {
        const t = wallNow();
        for (const s of seats) this.commitTimes.set(`${s.id}:${s.version}`, t);
        original(eventId, seats, cursor);
      };
    }
    this.urls = o.url ? this.urls : [...this.nodes.map((n) => n.url), ...this.procs.map((p) => p.url)];
  }

  /** With LOAD_QUERY_TIMES=1: total and count of response time per SQL shape (diagnostics for profiling). */
  readonly queryTimes = process.env.LOAD_QUERY_TIMES === '1' ? new Map<string, { n: number; ms: number; max: number }>() : undefined;
  private readonly queryStarts = new Map<string, { sql: string; t: number }>();

  private endQuery(q: { __knexQueryUid?: string }): void {
    if (!this.queryTimes || !q.__knexQueryUid) return;
    const s = this.queryStarts.get(q.__knexQueryUid);
    if (!s) return;
    this.queryStarts.delete(q.__knexQueryUid);
    const key = s.sql.replace(/\(\?(, \?)*\)/g, '(?...)').replace(/\(\(`seat_id`.*$/, '(seat cas...)').slice(0, 110);
    const e = this.queryTimes.get(key) ?? { n: 0, ms: 0, max: 0 };
    const ms = performance.now() - s.t;
    e.n++;
    e.ms += ms;
    e.max = Math.max(e.max, ms);
    this.queryTimes.set(key, e);
  }

  /**
   * MariaDB's global counters that explain where time goes (row-lock waits, deadlocks, commits). Global: other
   * work on the same server shows up too. Empty on SQLite.
   */
  async dbStatus(): Promise<Record<string, number>> {
    if (this.config.database.client !== 'mysql2') return {};
    const [rows] = (await this.db.raw(
      "SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_row_lock_waits','Innodb_row_lock_time','Innodb_deadlocks','Com_commit','Com_rollback','Questions','Innodb_os_log_fsyncs')",
    )) as [{ Variable_name: string; Value: string }[]];
    return Object.fromEntries(rows.map((r) => [r.Variable_name, Number(r.Value)]));
  }

  /** Queries the nodes have sent to the database so far (knex 'query' events; node processes as of `sync()`). */
  queryCount(): number {
    return this.queries + this.procs.reduce((n, p) => n + p.queries, 0);
  }

  /** Users inserted straight into the database with one shared bcrypt hash, with signed tokens: fast for crowds. */
  async createUsers(count: number, role: 'user' | 'box_office' = 'user'): Promise<LoadUser[]> {
    this.passwordHash ??= bcrypt.hashSync('load-password-123', 10);
    const tag = randomBytes(4).toString('hex');
    const out: LoadUser[] = [];
    for (let i = 0; i < count; i += 500) {
      const rows = Array.from({ length: Math.min(500, count - i) }, (_, j) => ({
        email: `load-${tag}-${i + j}@example.com`,
        name: `Load ${role} ${i + j}`,
        password_hash: this.passwordHash!,
        role,
        created_at: Date.now(),
      }));
      await this.db('users').insert(rows);
      const saved = await this.db('users').whereIn('email', rows.map((r) => r.email)).orderBy('id').select('id', 'email', 'name', 'role');
      for (const u of saved) out.push({ id: u.id, token: this.tokens.sign({ id: u.id, role: u.role, email: u.email, name: u.name }) });
    }
    return out;
  }

  /** A venue of `rows` x `seatsPerRow` seats and an on-sale event over it. */
  async seedEvent(opts: { rows: number; seatsPerRow: number; holdTtlSeconds: number; maxSeatsPerOrder: number; maxSeatsPerUser: number }): Promise<SeededEvent> {
    const venue = await this.services.venues.create({
      name: `Load Hall ${randomBytes(3).toString('hex')}`,
      layout: { sections: [rectangularSection({ name: 'Main', rows: opts.rows, seatsPerRow: opts.seatsPerRow, category: (r) => (r < 2 ? 'front' : 'standard') })] },
    });
    const event = await this.services.events.create({
      venueId: venue.id,
      name: 'Flash sale',
      startsAt: new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString(),
      status: 'on_sale',
      holdTtlSeconds: opts.holdTtlSeconds,
      maxHoldLifeSeconds: Math.max(opts.holdTtlSeconds, 1800),
      maxSeatsPerOrder: opts.maxSeatsPerOrder,
      maxSeatsPerUser: opts.maxSeatsPerUser,
      prices: [
        { category: 'front', priceCents: 9000 },
        { category: 'standard', priceCents: 4000 },
      ],
    } as Parameters<Services['events']['create']>[0]);
    const rows = await this.db('seats').where({ venue_id: venue.id }).orderBy('id').select('id', 'x', 'y');
    const centre = (opts.seatsPerRow - 1) / 2;
    return { eventId: event.id, seats: rows.map((r) => ({ id: r.id, row: Number(r.y), offCentre: Math.abs(Number(r.x) - centre) })) };
  }

  /**
   * Stops the nodes and drops what the run created. Idempotent: a second call (a signal handler and the run's own
   * `finally` both close) waits for the first close rather than racing it to the drop.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.nodes.map((n) => n.close().catch(() => undefined)), ...this.procs.map((p) => p.stop().catch(() => undefined))]);
      await this.db?.destroy();
      for (const c of this.cleanup) await c().catch(() => undefined);
    })();
    return this.closing;
  }
}
