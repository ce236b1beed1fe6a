import type { Express, Request, RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from '../db/knex';
import type { IoServer } from '../realtime/types';
import type { Clock } from '../shared/clock';
import type { AppError } from '../shared/errors';

/** Latency buckets (seconds) for holds, bookings and requests: 1 ms to 5 s. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** REST routes that create a hold or a booking (Express route patterns, with their mount path). */
const HOLD_ROUTES = new Set(['POST /api/events/:id/holds', 'POST /api/events/:id/holds/best', 'POST /api/events/:id/ga/holds', 'POST /api/admin/events/:id/holds']);
const BOOKING_ROUTES = new Set(['POST /api/bookings', 'POST /api/admin/holds/:token/book', 'POST /api/waitlist/:id/accept']);
const HOLD_COMMANDS = new Set(['seat:hold', 'seat:best', 'ga:hold']);
const BOOKING_COMMANDS = new Set(['booking:confirm', 'waitlist:accept']);
/** Error codes that mean "someone else got there first" (contention, not a client bug). */
const CONFLICT_CODES = new Set(['SEAT_UNAVAILABLE', 'HOLD_ALREADY_BOOKED', 'HOLD_EXPIRED']);

/**
 * One node's Prometheus metrics, in a Registry of its own (never prom-client's global one), so several
 * nodes can run in one process (tests) without mixing their numbers. Served at GET /metrics.
 */
export class Metrics {
  readonly registry = new Registry();
  private io: IoServer | undefined;

  readonly holds: Counter<'transport'>;
  readonly bookings: Counter<'transport'>;
  readonly conflicts: Counter<'transport' | 'code'>;
  readonly errors: Counter<'transport' | 'code'>;
  readonly txRetries: Counter;
  /** Sharded-channel subscriptions sent again after Redis Cluster refused them (a failover): realtime/sharded-subscriptions.ts. */
  readonly redisSubscriptionRetries: Counter;
  /** Commands decided per seat batch (group commit): 1 means no grouping happened. */
  readonly seatBatchSize: Histogram;
  /** How long each seat batch's transaction took, retries included. */
  readonly seatBatchDuration: Histogram;
  /** Requests refused by a per-client cap (RateLimits.onLimited), by limit. */
  readonly rateLimited: Counter<'limit'>;
  readonly holdLatency: Histogram<'transport' | 'outcome'>;
  readonly bookingLatency: Histogram<'transport' | 'outcome'>;
  readonly commandLatency: Histogram<'command' | 'outcome'>;
  readonly httpLatency: Histogram<'method' | 'route' | 'status'>;
  readonly broadcastBatch: Histogram;
  readonly broadcastWindow: Histogram;
  /** Webhook delivery attempts by outcome: delivered, retry (failed, will be tried again), failed (gave up after a day). */
  readonly webhookDeliveries: Counter<'outcome'>;
  /** Dispatcher rounds that failed (database unreachable): each is logged too. */
  readonly webhookErrors: Counter;

  constructor(deps: { db: Db; clock: Clock; nodeLabel?: string }) {
    const r = this.registry;
    if (deps.nodeLabel) r.setDefaultLabels({ node: deps.nodeLabel });
    collectDefaultMetrics({ register: r });
    this.holds = new Counter({ name: 'evently_holds_total', help: 'Holds created or added to', labelNames: ['transport'], registers: [r] });
    this.bookings = new Counter({ name: 'evently_bookings_total', help: 'Bookings confirmed (not counting idempotent replays)', labelNames: ['transport'], registers: [r] });
    this.conflicts = new Counter({
      name: 'evently_conflicts_total',
      help: 'Hold/booking attempts that lost a race (SEAT_UNAVAILABLE, HOLD_ALREADY_BOOKED, HOLD_EXPIRED)',
      labelNames: ['transport', 'code'],
      registers: [r],
    });
    this.errors = new Counter({ name: 'evently_errors_total', help: 'Error replies by code (REST and socket acks)', labelNames: ['transport', 'code'], registers: [r] });
    this.rateLimited = new Counter({ name: 'evently_rate_limited_total', help: 'Requests refused by a per-client cap (register: registrations per IP)', labelNames: ['limit'], registers: [r] });
    this.redisSubscriptionRetries = new Counter({ name: 'evently_redis_subscription_retries_total', help: 'Room channel subscriptions sent again after Redis Cluster refused them (a failover)', registers: [r] });
    this.txRetries = new Counter({ name: 'evently_tx_retries_total', help: 'Whole-transaction retries after deadlock, lock wait timeout or a lost compare-and-set', registers: [r] });
    this.seatBatchSize = new Histogram({ name: 'evently_seat_batch_commands', help: 'Seat commands decided in one group-committed transaction', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256], registers: [r] });
    this.seatBatchDuration = new Histogram({ name: 'evently_seat_batch_duration_seconds', help: 'Time to decide and commit one seat batch (retries included)', buckets: LATENCY_BUCKETS, registers: [r] });
    this.holdLatency = new Histogram({ name: 'evently_hold_duration_seconds', help: 'Hold request latency', labelNames: ['transport', 'outcome'], buckets: LATENCY_BUCKETS, registers: [r] });
    this.bookingLatency = new Histogram({ name: 'evently_booking_duration_seconds', help: 'Booking request latency', labelNames: ['transport', 'outcome'], buckets: LATENCY_BUCKETS, registers: [r] });
    this.commandLatency = new Histogram({ name: 'evently_socket_command_duration_seconds', help: 'Socket command latency', labelNames: ['command', 'outcome'], buckets: LATENCY_BUCKETS, registers: [r] });
    this.httpLatency = new Histogram({ name: 'evently_http_request_duration_seconds', help: 'REST request latency', labelNames: ['method', 'route', 'status'], buckets: LATENCY_BUCKETS, registers: [r] });
    this.broadcastBatch = new Histogram({
      name: 'evently_broadcast_batch_seats',
      help: 'Seats per seats:changed broadcast (one batch per event per window)',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers: [r],
    });
    this.broadcastWindow = new Histogram({
      name: 'evently_broadcast_window_ms',
      help: 'How long each seats:changed batch was held open, ms (BROADCAST_BATCH_MS; wider on a busy node, up to BROADCAST_MAX_BATCH_MS)',
      buckets: [5, 10, 20, 50, 100, 200, 500, 1000],
      registers: [r],
    });
    this.webhookDeliveries = new Counter({ name: 'evently_webhook_deliveries_total', help: 'Webhook delivery attempts by outcome (delivered, retry, failed)', labelNames: ['outcome'], registers: [r] });
    this.webhookErrors = new Counter({ name: 'evently_webhook_dispatch_errors_total', help: 'Webhook dispatcher rounds that failed (each is logged)', registers: [r] });
    new Gauge({
      name: 'evently_webhook_backlog',
      help: 'Webhook work waiting: outbox rows not yet fanned out (stage=outbox), deliveries pending (stage=deliveries)',
      labelNames: ['stage'],
      registers: [r],
      async collect() {
        try {
          const [[o], [d]] = (await Promise.all([
            deps.db('outbox').whereNull('dispatched_at').count({ n: '*' }),
            deps.db('webhook_deliveries').where('status', 'pending').count({ n: '*' }),
          ])) as [{ n: number | string }][];
          this.set({ stage: 'outbox' }, Number(o?.n ?? 0));
          this.set({ stage: 'deliveries' }, Number(d?.n ?? 0));
        } catch {
          this.set({ stage: 'outbox' }, -1); // database unreachable; /readyz says so too
        }
      },
    });
    const io = () => this.io;
    new Gauge({
      name: 'evently_sockets_connected',
      help: 'Socket.IO connections on this node',
      registers: [r],
      collect() {
        this.set(io()?.engine.clientsCount ?? 0);
      },
    });
    new Gauge({
      name: 'evently_db_pool_connections',
      help: 'Database pool connections by state (used = in a query or transaction; pending = waiting for one)',
      labelNames: ['state'],
      registers: [r],
      collect() {
        const pool = (deps.db.client as { pool?: { numUsed(): number; numFree(): number; numPendingAcquires(): number } }).pool;
        this.set({ state: 'used' }, pool?.numUsed() ?? 0);
        this.set({ state: 'free' }, pool?.numFree() ?? 0);
        this.set({ state: 'pending' }, pool?.numPendingAcquires() ?? 0);
      },
    });
    new Gauge({
      name: 'evently_sweeper_lag_seconds',
      help: 'Age past expiry of the oldest hold not yet swept (0 when none is due): grows if sweepers stall',
      registers: [r],
      async collect() {
        const now = deps.clock.now();
        try {
          const row = (await deps.db('holds').where('status', 'active').andWhere('expires_at', '<=', now).min({ m: 'expires_at' }).first()) as { m: number | string | null } | undefined;
          this.set(row?.m == null ? 0 : Math.max(0, (now - Number(row.m)) / 1000));
        } catch {
          this.set(-1); // database unreachable; /readyz says so too
        }
      },
    });
  }

  /** Socket.IO server whose connections the sockets gauge counts. */
  bindIo(io: IoServer): void {
    this.io = io;
  }

  /** CommandContext.afterCommand: latency and outcome of every socket command. */
  readonly afterCommand = (name: string, ms: number, error?: AppError): void => {
    const outcome = error ? error.code : 'ok';
    const s = ms / 1000;
    this.commandLatency.observe({ command: name, outcome: error ? 'error' : 'ok' }, s);
    if (HOLD_COMMANDS.has(name)) {
      this.holdLatency.observe({ transport: 'socket', outcome: error ? 'error' : 'ok' }, s);
      if (!error) this.holds.inc({ transport: 'socket' });
    }
    if (BOOKING_COMMANDS.has(name)) {
      this.bookingLatency.observe({ transport: 'socket', outcome: error ? 'error' : 'ok' }, s);
      if (!error) this.bookings.inc({ transport: 'socket' });
    }
    if (error) this.countError('socket', outcome);
  };

  /** WebhookDispatcher hooks: each attempt's outcome, and failed rounds. */
  readonly onWebhookOutcome = (outcome: 'delivered' | 'retry' | 'failed'): void => void this.webhookDeliveries.inc({ outcome });
  readonly onWebhookError = (): void => void this.webhookErrors.inc();

  /** Broadcaster onFlush: seats per emitted batch, and the window it was merged over. */
  readonly onFlush = (_eventId: number, size: number, windowMs: number): void => {
    this.broadcastBatch.observe(size);
    this.broadcastWindow.observe(windowMs);
  };

  private countError(transport: string, code: string): void {
    this.errors.inc({ transport, code });
    if (CONFLICT_CODES.has(code)) this.conflicts.inc({ transport, code });
  }

  /** Times REST requests by route pattern (never the raw URL: ids would explode the label set). */
  httpMiddleware(): RequestHandler {
    return (req, res, next) => {
      const started = process.hrtime.bigint();
      let errorCode: string | undefined;
      const json = res.json.bind(res);
      res.json = (body?: unknown) => {
        const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
        if (typeof code === 'string') errorCode = code;
        return json(body);
      };
      res.on('finish', () => {
        const s = Number(process.hrtime.bigint() - started) / 1e9;
        const route = routeOf(req, res.locals.metricsBase);
        const key = `${req.method} ${route}`;
        const ok = res.statusCode < 400;
        this.httpLatency.observe({ method: req.method, route, status: String(res.statusCode) }, s);
        if (HOLD_ROUTES.has(key)) {
          this.holdLatency.observe({ transport: 'rest', outcome: ok ? 'ok' : 'error' }, s);
          if (res.statusCode === 201) this.holds.inc({ transport: 'rest' });
        }
        if (BOOKING_ROUTES.has(key)) {
          this.bookingLatency.observe({ transport: 'rest', outcome: ok ? 'ok' : 'error' }, s);
          if (res.statusCode === 201) this.bookings.inc({ transport: 'rest' });
        }
        if (errorCode) this.countError('rest', errorCode);
      });
      next();
    };
  }

  /**
   * Mount inside a sub-router (the /api router): remembers its mount path, which Express forgets once an
   * error leaves the router, so a failed request is still labelled with its full route.
   */
  routerMarker(): RequestHandler {
    return (req, res, next) => {
      res.locals.metricsBase = req.baseUrl;
      next();
    };
  }

  /** GET /metrics in the Prometheus text format. */
  mount(app: Express): void {
    app.get('/metrics', async (_req, res, next) => {
      try {
        res.set('content-type', this.registry.contentType).send(await this.registry.metrics());
      } catch (err) {
        next(err);
      }
    });
  }
}

function routeOf(req: Request, base: unknown): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof path === 'string') return `${typeof base === 'string' ? base : req.baseUrl}${path}`;
  return 'unmatched';
}
