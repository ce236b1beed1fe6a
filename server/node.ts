import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app';
import type { Config } from './config';
import { createDb, migrateLatest, type Db } from './db/knex';
import type { RetryOptions } from './db/transaction';
import type { ReadinessProbe } from './health/routes';
import { Broadcaster } from './realtime/broadcaster';
import { createRealtime } from './realtime/io';
import { createRedisAdapter } from './realtime/redis';
import type { IoServer } from './realtime/types';
import { startSweeper } from './seats/sweeper';
import { createServices, type Services } from './services';
import { systemClock, type Clock } from './shared/clock';
import { createLogger, type Logger } from './shared/logger';

export interface NodeOptions {
  clock?: Clock;
  logger?: Logger;
  /** Share a knex instance (tests); otherwise the node creates and owns one. */
  db?: Db;
  /** Skip migrations (another node already ran them). */
  skipMigrations?: boolean;
  retry?: RetryOptions;
  /** Run the hold sweeper (default true). */
  sweeper?: boolean;
}

export interface EventlyNode {
  config: Config;
  db: Db;
  services: Services;
  io: IoServer;
  http: HttpServer;
  clock: Clock;
  logger: Logger;
  broadcaster: Broadcaster;
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  /** Sweeps lapsed holds now (tests). */
  sweep(): Promise<number>;
  /** Graceful stop: no new work, in-flight requests finish, sockets told to reconnect, pools closed. */
  close(): Promise<void>;
}

/**
 * Starts one Evently node: database (migrated), services, Express, Socket.IO (with the Redis adapter when
 * configured), the hold sweeper, listening on config.port (0 picks a free port).
 */
export async function startNode(config: Config, opts: NodeOptions = {}): Promise<EventlyNode> {
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? createLogger(config.logLevel);
  const ownsDb = !opts.db;
  const db = opts.db ?? createDb(config);
  if (!opts.skipMigrations) await migrateLatest(db);

  const broadcaster = new Broadcaster(config.broadcastBatchMs, logger);
  const services = createServices({ config, db, clock, notifier: broadcaster, retry: opts.retry });

  const probes: ReadinessProbe[] = [];
  const redis = config.redisUrl ? createRedisAdapter(config.redisUrl, config.redisKeyPrefix, logger) : undefined;
  if (redis) probes.push(redis.probe);

  let shuttingDown = false;
  const app = createApp({ config, db, logger, services, probes, isShuttingDown: () => shuttingDown });
  const http = createServer(app);
  http.keepAliveTimeout = 65_000; // longer than typical load balancer idle timeouts
  const { io, eventNamespaces } = createRealtime(http, {
    services,
    clock,
    logger,
    broadcaster,
    corsOrigins: config.corsOrigins,
    adapter: redis?.adapter,
  });
  const sweeper = opts.sweeper === false ? undefined : startSweeper(services.seats, config.sweepIntervalMs, logger);

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;

  return {
    config,
    db,
    services,
    io,
    http,
    clock,
    logger,
    broadcaster,
    url: `http://${host}:${port}`,
    port,
    sweep: () => services.seats.sweepExpired(),
    close: async () => {
      if (shuttingDown) return;
      shuttingDown = true;
      await sweeper?.stop();
      broadcaster.flushAll();
      for (const nsp of eventNamespaces()) nsp.local.emit('server:reconnect', { reason: 'server shutting down' });
      // Stop accepting connections; let in-flight HTTP requests (and their transactions) finish.
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeIdleConnections();
      io.disconnectSockets(true);
      await io.close().catch(() => undefined);
      await closed;
      await redis?.close();
      if (ownsDb) await db.destroy();
    },
  };
}
