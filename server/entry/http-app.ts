import express, { type Express, type Request } from 'express';
import helmet from 'helmet';
import { randomUUID } from 'node:crypto';
import swaggerUi from 'swagger-ui-express';
import { registerUserAdminRoutes } from '../accounts/admin-routes';
import { registerAccountsRoutes } from '../accounts/routes';
import { registerBoxOfficeRoutes } from '../box-office/routes';
import type { AuthUser } from '../shared/auth-user';
import { registerBookingsRoutes } from '../bookings/routes';
import type { Config } from '../config';
import { finishesWork, type Backpressure } from '../db/backpressure';
import type { Db } from '../db/knex';
import { buildAsyncApi } from '../docs/asyncapi';
import { buildOpenApi } from '../docs/openapi';
import { registerEventLifecycleRoutes } from '../events/lifecycle-routes';
import { registerEventsRoutes } from '../events/routes';
import { mountHealth, type ReadinessProbe } from '../health/routes';
import { mountClientDemo } from '../http/client-demo';
import { corsFor } from '../http/cors';
import { errorHandler, notFoundHandler } from '../http/error-handler';
import { ApiRouter } from '../http/route';
import type { Metrics } from '../metrics/metrics';
import type { RateLimits } from '../ratelimit/limits';
import { registerSeatsRoutes } from '../seats/routes';
import { registerBestRoutes } from '../seats/best-handlers';
import { registerGaRoutes } from '../ga/routes';
import { registerReportRoutes } from '../reports/routes';
import { registerVenueRoutes } from '../venues/routes';
import { registerWaitlistRoutes } from '../waitlist/routes';
import { registerQueueRoutes } from '../queue/routes';
import { registerWebhookRoutes } from '../webhooks/routes';
import type { Services } from './services';
import type { Logger } from '../shared/logger';
import { UnauthorizedError } from '../shared/errors';

export interface AppDeps {
  /** Sheds writes when the database pool's queue is full (see db/backpressure.ts). */
  backpressure?: Backpressure;
  config: Config;
  db: Db;
  logger: Logger;
  services: Services;
  probes?: ReadinessProbe[];
  isShuttingDown?: () => boolean;
  /** Prometheus instruments; GET /metrics when present. */
  metrics?: Metrics;
  /** REST and sign-in rate limits when present. */
  rateLimits?: RateLimits;
}

/** Request body limit: the largest legitimate body is a venue layout import. */
const BODY_LIMIT = '2mb';

/**
 * Builds the Express application. It never listens: node.ts attaches it to an HTTP server, and tests can
 * build several in one process.
 */
export function createApp(deps: AppDeps): Express {
  const { services, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.config.trustProxy);
  app.set('query parser', 'simple');
  app.use(
    helmet({
      contentSecurityPolicy: {
        // upgrade-insecure-requests is off: it would make a browser fetch the demo's script and styles over
        // https when the server is reached over plain http by IP or host name (only localhost is exempt).
        directives: { 'img-src': ["'self'", 'data:'], 'connect-src': ["'self'", 'ws:', 'wss:'], 'upgrade-insecure-requests': null },
      },
    }),
  );
  app.use((req, res, next) => {
    const id = (req.get('x-request-id') ?? '').slice(0, 64) || randomUUID();
    res.set('x-request-id', id);
    const log = logger.child({ reqId: id });
    (req as Request & { log: Logger }).log = log;
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      log.debug({ method: req.method, url: req.originalUrl, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
    });
    next();
  });
  if (deps.metrics) app.use(deps.metrics.httpMiddleware());
  // Before every route, so preflights (OPTIONS) are answered here and never reach auth, limits or shedding.
  const cors = corsFor(deps.config.corsOrigins);
  if (cors) app.use(cors);
  app.use((_req, res, next) => {
    // Draining: finish this request, then close its connection so the client's next one goes elsewhere.
    if (deps.isShuttingDown?.()) res.set('connection', 'close');
    next();
  });

  mountHealth(app, { db: deps.db, probes: deps.probes, isShuttingDown: deps.isShuttingDown });

  const bearer = (req: Request): string | undefined => {
    const header = req.get('authorization');
    if (!header) return undefined;
    const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header);
    if (!match) throw new UnauthorizedError('Authorization header must be "Bearer <token>"', 'INVALID_TOKEN');
    return match[1]!;
  };
  /** Signature and claims only: enough to pick a rate-limit key, not to authorize. */
  const identify = (req: Request): AuthUser | undefined => {
    const token = bearer(req);
    return token === undefined ? undefined : services.tokens.verify(token);
  };
  /** Checked against the user's current state (removed, deactivated, revoked, role changed). */
  const authenticate = async (req: Request): Promise<AuthUser | undefined> => {
    const token = bearer(req);
    return token === undefined ? undefined : services.access.authenticate(token);
  };

  const router = express.Router();
  if (deps.metrics) router.use(deps.metrics.routerMarker());
  if (deps.backpressure) {
    const backpressure = deps.backpressure;
    // Writes are shed when the pool's queue is full; reads stay served (they are short and cacheable).
    router.use((req, _res, next) => {
      if (req.method !== 'GET' && !finishesWork(req.method, req.baseUrl + req.path)) backpressure.check();
      next();
    });
  }
  if (deps.rateLimits) router.use(deps.rateLimits.restMiddleware(identify));
  router.use(express.json({ limit: BODY_LIMIT, strict: true }));
  if (deps.rateLimits) router.post('/auth/login', deps.rateLimits.loginMiddleware());
  if (deps.rateLimits) router.post('/auth/register', deps.rateLimits.registerMiddleware());
  const api = new ApiRouter(router, authenticate);
  registerAccountsRoutes(api, services.accounts);
  registerEventsRoutes(api, services.events, services.layouts);
  registerSeatsRoutes(api, services.seats);
  registerBookingsRoutes(api, services.bookings);
  registerBestRoutes(api, services.best);
  registerWaitlistRoutes(api, services.waitlist);
  registerGaRoutes(api, services.ga);
  registerQueueRoutes(api, services.queue);
  // Staff and admin routes, by domain (each route names the roles it admits); registered in this order so
  // the OpenAPI document lists them as before.
  registerVenueRoutes(api, services.venueCatalogue);
  registerEventLifecycleRoutes(api, { events: services.events, lifecycle: services.eventLifecycle, cancellation: services.eventCancellation });
  registerBoxOfficeRoutes(api, services);
  registerReportRoutes(api, services);
  registerUserAdminRoutes(api, services.accounts);
  registerWebhookRoutes(api, services.webhooks);
  router.use(notFoundHandler);
  app.use('/api', router);

  const openapi = buildOpenApi(api.specs, { version: '0.1.0' });
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  // The socket protocol, generated from the same contracts (docs/asyncapi.ts).
  const asyncapi = buildAsyncApi({ version: '0.1.0' });
  app.get('/asyncapi.json', (_req, res) => {
    res.json(asyncapi);
  });
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(openapi, { customSiteTitle: 'Evently API' }));

  deps.metrics?.mount(app);
  mountClientDemo(app);
  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}
