import { socketClientIp } from '../realtime/client-ip';
import type { Request, RequestHandler } from 'express';
import type { Cluster, Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { AuthUser } from '../shared/auth-user';
import { RateLimitedError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { EventSocket } from '../realtime/types';

/** One limit: `points` per `durationSeconds`; 0 points turns it off. */
export interface LimitSpec {
  points: number;
  durationSeconds: number;
}

export interface RateLimitConfig {
  /** Failed sign-ins per email+IP. */
  login: LimitSpec;
  /** REST requests per client (the signed-in user, else the IP). */
  rest: LimitSpec;
  /** Socket commands per user (or per IP for anonymous watchers). */
  socket: LimitSpec;
  /** `seat:hold` attempts per user. */
  hold: LimitSpec;
  /** Account registrations per client IP (one person registering many accounts to hold a whole event). */
  register: LimitSpec;
}

/** Socket commands that try to hold seats (one budget with the REST hold routes). */
const HOLD_COMMANDS = new Set(['seat:hold', 'seat:best', 'ga:hold']);
/** REST paths (under /api) that try to hold seats. */
const HOLD_PATHS = /^\/(admin\/)?events\/[^/]+\/(holds|holds\/best|ga\/holds)\/?$/;

/** Why a limiter refused: the key was over its budget. Anything else (store down) is not a refusal. */
function retryAfter(res: unknown): number | undefined {
  if (res instanceof RateLimiterRes) return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  return undefined;
}

/**
 * The node's rate limits. With Redis (one, or a cluster) every node counts against the same keys
 * (RateLimiterRedis on the node's ioredis client, one key prefix per deployment; each call touches one key, so
 * it works unchanged on a Redis Cluster), so N nodes do not give a client N times the budget. While
 * Redis is not ready the limiters fall back to a per-node memory limiter instead of blocking requests.
 * Without Redis (embedded default) they are in-memory.
 */
export class RateLimits {
  private readonly login?: RateLimiterAbstract;
  private readonly rest?: RateLimiterAbstract;
  private readonly socket?: RateLimiterAbstract;
  private readonly hold?: RateLimiterAbstract;
  private readonly register?: RateLimiterAbstract;

  constructor(
    cfg: RateLimitConfig,
    private readonly logger: Logger,
    private readonly opts: { redis?: Redis | Cluster; keyPrefix?: string; trustProxy?: boolean; onLimited?: (limit: string) => void } = {},
  ) {
    const make = (name: string, spec: LimitSpec): RateLimiterAbstract | undefined => {
      if (spec.points <= 0) return undefined;
      const base = { points: spec.points, duration: spec.durationSeconds, keyPrefix: `${opts.keyPrefix ?? 'evently'}:rl:${name}` };
      if (!opts.redis) return new RateLimiterMemory(base);
      return new RateLimiterRedis({
        ...base,
        storeClient: opts.redis,
        // Never queue a limiter call behind a Redis outage (ioredis' offline queue would hold the request).
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory(base),
      });
    };
    this.login = make('login', cfg.login);
    this.rest = make('rest', cfg.rest);
    this.socket = make('socket', cfg.socket);
    this.hold = make('hold', cfg.hold);
    this.register = make('register', cfg.register);
  }

  /** Consumes one point; throws RateLimitedError when over budget. A broken store lets the call through. */
  private async take(limiter: RateLimiterAbstract | undefined, key: string, points = 1): Promise<void> {
    if (!limiter) return;
    try {
      await limiter.consume(key, points);
    } catch (err) {
      const after = retryAfter(err);
      if (after !== undefined) throw new RateLimitedError(after);
      this.logger.warn({ err }, 'rate limiter unavailable; allowing request');
    }
  }

  /**
   * Takes a point from each budget at once (one round trip's wait to Redis, not one per budget: in a rush every
   * reply waits for a turn of a busy event loop). Every budget is charged, as a refused request is charged anyway;
   * when any refuses, the refusal with the longest wait is the answer, since the client must wait for all of them.
   */
  private async takeAll(limiters: (RateLimiterAbstract | undefined)[], key: string): Promise<void> {
    const outcomes = await Promise.allSettled(limiters.map((l) => this.take(l, key)));
    let refusal: RateLimitedError | undefined;
    for (const o of outcomes) {
      if (o.status === 'fulfilled') continue;
      if (!(o.reason instanceof RateLimitedError)) throw o.reason;
      if (!refusal || o.reason.retryAfterSeconds > refusal.retryAfterSeconds) refusal = o.reason;
    }
    if (refusal) throw refusal;
  }

  /**
   * REST limit per client: the signed-in user when the bearer token verifies, else the client IP
   * (behind a proxy set TRUST_PROXY so req.ip is the client's).
   */
  restMiddleware(identify: (req: Request) => AuthUser | undefined): RequestHandler {
    return (req, _res, next) => {
      let key = `ip:${req.ip ?? 'unknown'}`;
      try {
        const user = identify(req);
        if (user) key = `u:${user.id}`;
      } catch {
        // A bad token is rejected by the route itself; count it against the IP.
      }
      // Hold attempts share one per-user budget whether they come over REST or the socket.
      const holding = req.method === 'POST' && HOLD_PATHS.test(req.path);
      this.takeAll(holding ? [this.rest, this.hold] : [this.rest], key).then(() => next(), next);
    };
  }

  /**
   * Sign-in limit: counts *failed* attempts per email+IP (a 401 reply), and refuses once the budget is
   * spent, until the window passes. Successful sign-ins do not count, so a busy office behind one IP is fine.
   */
  loginMiddleware(): RequestHandler {
    return (req, res, next) => {
      const limiter = this.login;
      if (!limiter) return next();
      const email = typeof (req.body as { email?: unknown } | undefined)?.email === 'string' ? String((req.body as { email: string }).email).toLowerCase().slice(0, 320) : '';
      const key = `${email}|${req.ip ?? 'unknown'}`;
      limiter.get(key).then(
        (state) => {
          if (state && state.consumedPoints >= limiter.points) return next(new RateLimitedError(Math.max(1, Math.ceil(state.msBeforeNext / 1000))));
          res.on('finish', () => {
            if (res.statusCode === 401) limiter.penalty(key, 1).catch((err) => this.logger.warn({ err }, 'login limiter unavailable'));
          });
          next();
        },
        (err) => {
          this.logger.warn({ err }, 'login limiter unavailable; allowing request');
          next();
        },
      );
    };
  }

  /**
   * Registration limit per client IP (behind a proxy set TRUST_PROXY so req.ip is the client's). Every attempt
   * counts, successful or not. A refusal is counted in `evently_rate_limited_total{limit="register"}`, and the
   * first refusal per IP and window is logged (not every one, so a script cannot flood the logs).
   */
  registerMiddleware(): RequestHandler {
    return (req, _res, next) => {
      const limiter = this.register;
      if (!limiter) return next();
      const ip = req.ip ?? 'unknown';
      limiter.consume(ip).then(
        () => next(),
        (err: unknown) => {
          const after = retryAfter(err);
          if (after === undefined) {
            this.logger.warn({ err }, 'registration limiter unavailable; allowing request');
            return next();
          }
          this.opts.onLimited?.('register');
          if ((err as RateLimiterRes).consumedPoints === limiter.points + 1) {
            this.logger.warn({ ip, limit: limiter.points, windowSeconds: limiter.duration }, 'registration throttled for this IP');
          }
          next(new RateLimitedError(after));
        },
      );
    };
  }

  /** Socket command limit per user (IP for anonymous sockets); `seat:hold` also has its own, tighter budget. */
  async beforeCommand(socket: EventSocket, name: string): Promise<void> {
    const user = socket.data.user;
    const key = user ? `u:${user.id}` : `ip:${this.clientIp(socket)}`;
    await this.takeAll(HOLD_COMMANDS.has(name) ? [this.socket, this.hold] : [this.socket], key);
  }

  private clientIp(socket: EventSocket): string {
    return socketClientIp(socket, !!this.opts.trustProxy);
  }
}
