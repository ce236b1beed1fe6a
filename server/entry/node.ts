import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './http-app';
import type { Config } from '../config';
import { Backpressure, FINISHING_COMMANDS } from '../db/backpressure';
import { createDb, migrateLatest, type Db } from '../db/knex';
import type { RetryOptions } from '../db/transaction';
import type { ReadinessProbe } from '../health/routes';
import { Metrics } from '../metrics/metrics';
import { RateLimits } from '../ratelimit/limits';
import { Broadcaster } from '../realtime/broadcaster';
import { createRealtime, type RealtimeDeps } from './socket-app';
import { createRedisChannel, type RedisConnections } from '../realtime/redis';
import { createSeatRelay } from '../realtime/seat-relay';
import { createRedisConnections } from '../realtime/redis-connections';
import type { AccessBus } from '../accounts/user-access';
import type { IoServer } from '../realtime/types';
import { startSweeper } from '../seats/sweeper';
import { watchQueueMetrics } from '../queue/metrics';
import { attachWaitingRoom } from '../queue/socket';
import { createServices, type Services } from './services';
import { systemClock, type Clock } from '../shared/clock';
import { AppError } from '../shared/errors';
import { createLogger, type Logger } from '../shared/logger';
import { WebhookDispatcher } from '../webhooks/dispatcher';

export interface NodeOptions {
  clock?: Clock;
  logger?: Logger;
  /** Share a knex instance (tests); otherwise the node creates and owns one. */
  db?: Db;
  /** Skip migrations (another node already ran them). */
  skipMigrations?: boolean;
  retry?: RetryOptions;
  /** Run the hold sweeper (default true); also the waitlist and waiting-room tickers. */
  sweeper?: boolean;
  /** The waiting room's lobby draws (tests seed them). */
  queueRandom?: () => number;
  /** How often this node ticks each waiting room (admissions, position updates); default 1000 ms. */
  queueTickMs?: number;
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
  /** This node's Prometheus registry and instruments (GET /metrics). */
  metrics: Metrics;
  rateLimits: RateLimits;
  /** This node's Redis (one Redis or a cluster), absent without REDIS_URL / REDIS_CLUSTER_NODES. */
  redis?: RedisConnections;
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  /** Socket.IO namespaces this node holds (the root and parent ones included): refused handshakes must not grow it. */
  namespaceCount(): number;
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
  const db = opts.db ?? createDb(config, logger);
  if (!opts.skipMigrations) await migrateLatest(db);

  const metrics = new Metrics({ db, clock });
  const broadcaster = new Broadcaster(config.broadcastBatchMs, logger, metrics.onFlush, { maxMs: config.broadcastMaxBatchMs });
  const retry = {
    ...opts.retry,
    onRetry: (err: unknown, attempt: number) => {
      metrics.txRetries.inc();
      opts.retry?.onRetry?.(err, attempt);
    },
  };
  // Expiry goes through the same per-event group commit as every seat command (priority lane, ahead of new
  // holds), so it needs no connection of its own: one event's batches hold at most one pool connection.
  const redis = createRedisConnections(config, logger, { onSubscriptionRetry: () => metrics.redisSubscriptionRetries.inc() });
  // Role changes and deactivations reach every node's auth cache and open sockets at once.
  const accessChannel = redis ? createRedisChannel(redis.pubsub, `${config.redisKeyPrefix}:user-access`, logger) : undefined;
  const accessBus: AccessBus | undefined = accessChannel && {
    publish: (userId) => accessChannel.publish(String(userId)),
    subscribe: (listener) =>
      accessChannel.subscribe((m) => {
        const id = Number(m);
        if (Number.isInteger(id) && id > 0) listener(id);
      }),
  };
  // Briefly: with Redis unreachable at start the node still starts (ioredis subscribes once it connects).
  if (accessChannel) await Promise.race([accessChannel.ready, new Promise<void>((r) => setTimeout(r, 3000).unref())]);
  // The per-IP hold cap biting is counted, and logged once per address and event per minute.
  const capLogged = new Map<string, number>();
  const onIpCap = (eventId: number, clientIp: string) => {
    metrics.rateLimited.inc({ limit: 'hold_ip' });
    const key = `${eventId}|${clientIp}`;
    if ((capLogged.get(key) ?? 0) > Date.now() - 60_000) return;
    if (capLogged.size > 10_000) capLogged.clear();
    capLogged.set(key, Date.now());
    logger.warn({ eventId, clientIp, cap: config.holdCapPerIp }, 'per-IP hold cap refused a hold');
  };
  const services = createServices({ config, db, clock, notifier: broadcaster, retry, accessBus, logger, onIpCap, redis: redis?.redis, queueRandom: opts.queueRandom, onBatch: (_eventId, n, ms) => {
      metrics.seatBatchSize.observe(n);
      metrics.seatBatchDuration.observe(ms / 1000);
    } });

  const probes: ReadinessProbe[] = [];
  // Box office and admin sockets see who holds each seat; buyers get the same batches without it. The
  // holder read has one MySQL connection of its own, so staff batches do not wait in the main pool's queue
  // behind buyers; it is skipped while no staff socket is connected to this node (see Broadcaster).
  const staffDb = ownsDb && config.database.client === 'mysql2' ? createDb({ database: config.database, dbPoolMax: 1 }, logger) : undefined;
  broadcaster.setStaffView((eventId, seats) => services.staffView.withHolders(eventId, seats, staffDb));
  if (redis) probes.push(redis.probe);
  // Shared by all nodes through Redis, so N nodes do not give a client N times the budget.
  const rateLimits = new RateLimits(config.rateLimits, logger, {
    redis: redis?.redis,
    keyPrefix: config.redisKeyPrefix,
    trustProxy: config.trustProxy,
    onLimited: (limit) => metrics.rateLimited.inc({ limit }),
  });

  const backpressure = new Backpressure(db, config.dbQueueMax);
  let shuttingDown = false;
  const app = createApp({ backpressure, config, db, logger, services, probes, isShuttingDown: () => shuttingDown, metrics, rateLimits });
  const http = createServer(app);
  http.keepAliveTimeout = 65_000; // longer than typical load balancer idle timeouts
  const commandHooks: RealtimeDeps['commandHooks'] = {
    beforeCommand: async (socket, name) => {
      // Draining: the client reconnects (to another node) and retries there.
      if (shuttingDown) throw new AppError(503, 'SHUTTING_DOWN', 'This server is restarting; reconnect and retry');
      if (!FINISHING_COMMANDS.has(name)) backpressure.check();
      await rateLimits.beforeCommand(socket, name);
    },
    afterCommand: metrics.afterCommand,
  };
  const { io, eventNamespaces, namespaceCount } = createRealtime(http, {
    services,
    clock,
    logger,
    broadcaster,
    corsOrigins: config.corsOrigins,
    trustProxy: config.trustProxy,
    adapter: redis?.adapter,
    roomSubscribed: redis?.roomSubscribed,
    relay: redis && createSeatRelay(redis.pubsub, config.redisKeyPrefix, logger),
    isShuttingDown: () => shuttingDown,
    commandHooks,
  });
  metrics.bindIo(io);
  const queueMetrics = watchQueueMetrics(metrics.registry, services.queue);
  const waitingRoom = attachWaitingRoom(io, {
    queue: services.queue,
    access: services.access,
    isWatchable: (eventId) => services.events.isWatchable(eventId),
    clock,
    logger,
    commandHooks,
    trustProxy: config.trustProxy,
    onProgress: queueMetrics.progressSent,
  });
  if (opts.sweeper !== false) services.queue.startTicker(opts.queueTickMs ?? 1000);
  const sweeper = opts.sweeper === false ? undefined : startSweeper(services.seats, config.sweepIntervalMs, logger);
  // Safety net for seats freed without a waitlist trigger; each offer is a compare-and-set, so every node may run it.
  if (opts.sweeper !== false) services.waitlist.startTicker(Math.max(config.sweepIntervalMs, 1000));
  const webhooks = config.webhooks.dispatcher
    ? new WebhookDispatcher({ db, clock, logger, retry, batchSize: config.webhooks.batchSize, timeoutMs: config.webhooks.timeoutMs, allowPrivateTargets: config.webhooks.allowPrivateTargets, onOutcome: metrics.onWebhookOutcome, onError: metrics.onWebhookError })
    : undefined;
  webhooks?.start(config.webhooks.pollIntervalMs);

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;

  let closing: Promise<void> | undefined;
  /**
   * Graceful stop, in order: (1) refuse new work: /readyz answers 503, new sockets and new socket commands
   * are refused (SHUTTING_DOWN), HTTP responses carry `Connection: close`; optionally keep serving for
   * SHUTDOWN_DRAIN_MS so the balancer notices; (2) stop listening, let in-flight HTTP requests and their
   * transactions finish; (3) stop the sweeper, flush pending broadcasts, tell every socket to reconnect
   * (`server:reconnect`; clients catch up from their cursor on another node); (4) wait for in-flight socket
   * commands to leave the database, close the sockets; (5) send the last broadcasts (staff reads included) and
   * stop broadcasting, then close Redis and the database pool.
   */
  const shutdown = async (): Promise<void> => {
    shuttingDown = true;
    if (config.shutdownDrainMs > 0) await sleep(config.shutdownDrainMs);
    const closed = new Promise<void>((resolve) => http.close(() => resolve()));
    http.closeIdleConnections();
    await sweeper?.stop();
    await services.waitlist.stop();
    await webhooks?.stop();
    await services.queue.stop();
    broadcaster.flushAll();
    for (const nsp of eventNamespaces()) nsp.local.emit('server:reconnect', { reason: 'server shutting down' });
    await waitForIdlePool(db, 10_000);
    for (const nsp of [...eventNamespaces(), ...waitingRoom.namespaces()]) nsp.local.disconnectSockets(true);
    io.disconnectSockets(true);
    await io.close().catch(() => undefined);
    await closed;
    // Requests that finished during the drain may have queued waitlist passes; let them commit first.
    await services.waitlist.idle();
    await waitForIdlePool(db, 5_000);
    // Changes committed until now still reach the other nodes' sockets; after this nothing emits, so no
    // broadcast (a PUBLISH nobody awaits) can be issued on the Redis connections closed next.
    await broadcaster.close();
    await accessChannel?.close();
    await redis?.close();
    await staffDb?.destroy();
    if (ownsDb) await db.destroy();
  };

  return {
    config,
    db,
    services,
    io,
    http,
    clock,
    logger,
    broadcaster,
    metrics,
    rateLimits,
    redis,
    url: `http://${host}:${port}`,
    port,
    namespaceCount,
    sweep: () => services.seats.sweepExpired(),
    close: () => (closing ??= shutdown()),
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Resolves once no connection of the pool is in use or awaited (twice in a row, so a command between two
 * queries is not mistaken for idle), or after `timeoutMs`. Transactions in flight commit before we close.
 */
async function waitForIdlePool(db: Db, timeoutMs: number): Promise<void> {
  const pool = (db.client as { pool?: { numUsed(): number; numPendingAcquires(): number } }).pool;
  if (!pool) return;
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  while (quiet < 2 && Date.now() < deadline) {
    quiet = pool.numUsed() === 0 && pool.numPendingAcquires() === 0 ? quiet + 1 : 0;
    if (quiet < 2) await sleep(20);
  }
}
