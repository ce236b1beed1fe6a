import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import type { AuthUser, Role } from '../shared/auth-user';
import { ForbiddenError, UnauthorizedError } from '../shared/errors';
import { parse } from '../shared/validation';

/** Who may call a route: anyone, any signed-in user, or one of the listed roles. */
export type Access = 'public' | 'user' | Role[];

export interface RouteSpec<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express path under /api, e.g. `/events/:id`. */
  path: string;
  summary: string;
  tag: string;
  access: Access;
  body?: B;
  query?: Q;
  params?: P;
  /** Extra request headers documented (and read by the handler), e.g. Idempotency-Key. */
  headers?: Record<string, { required: boolean; description: string }>;
  responses: Record<number, RouteResponse>;
}

/** One documented answer of a route. Errors (status >= 400) always carry the error body; `schema` is for 2xx. */
export interface RouteResponse {
  description: string;
  /** JSON body of a success; absent for an empty answer (204, 304). */
  schema?: z.ZodType;
  /** A text form of the same answer (e.g. `text/csv` for `?format=csv`), documented next to the JSON one. */
  text?: string;
}

export interface RouteContext<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  /** The signed-in user; present whenever access is not 'public'. */
  user: AuthUser;
  /** Possibly-present user on public routes. */
  maybeUser: AuthUser | undefined;
  header(name: string): string | undefined;
  /** The client's address (`req.ip`: the forwarded one behind a trusted proxy). */
  clientIp: string;
  res: Response;
}

export interface Reply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Raw text body (CSV export); sent as-is with its content type. */
  text?: { contentType: string; content: string };
  /** Raw bytes (a pre-compressed layout); sent as-is with its content type (set Content-Encoding in headers). */
  raw?: { contentType: string; content: Buffer };
}

export type AnyRouteSpec = RouteSpec<z.ZodType, z.ZodType, z.ZodType>;

/**
 * A REST router that documents as it registers: every route's zod schemas both validate the request and
 * feed /openapi.json, so the docs cannot drift from the code.
 */
export class ApiRouter {
  readonly specs: AnyRouteSpec[] = [];

  constructor(
    private readonly router: Router,
    private readonly authenticate: (req: Request) => Promise<AuthUser | undefined>,
  ) {}

  route<B extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined, P extends z.ZodType = z.ZodUndefined>(
    spec: RouteSpec<B, Q, P>,
    handler: (ctx: RouteContext<z.infer<B>, z.infer<Q>, z.infer<P>>) => Promise<Reply>,
  ): void {
    this.specs.push(spec as unknown as AnyRouteSpec);
    this.router[spec.method](spec.path, async (req: Request, res: Response) => {
      const maybeUser = await this.authenticate(req);
      if (spec.access !== 'public') {
        if (!maybeUser) throw new UnauthorizedError();
        if (Array.isArray(spec.access) && !spec.access.includes(maybeUser.role)) throw new ForbiddenError();
      }
      const params = spec.params ? parse(spec.params, req.params, 'path parameters') : undefined;
      const query = spec.query ? parse(spec.query, req.query ?? {}, 'query') : undefined;
      let body: unknown;
      if (spec.body) {
        body = parse(spec.body, req.body ?? {}, 'request body');
      } else if (req.body !== undefined && Object.keys(req.body as object).length > 0) {
        // A body where none is expected is a client bug; say so rather than ignore it.
        parse(z.object({}).strict(), req.body, 'request body');
      }
      const reply = await handler({
        body: body as z.infer<B>,
        query: query as z.infer<Q>,
        params: params as z.infer<P>,
        user: maybeUser as AuthUser,
        maybeUser,
        header: (name) => req.get(name),
        clientIp: req.ip ?? 'unknown',
        res,
      });
      // Vary is added to, never replaced: CORS has already put Origin in it, and a cache must key on both.
      for (const [name, value] of Object.entries(reply.headers ?? {})) {
        if (name.toLowerCase() === 'vary') res.vary(value);
        else res.set(name, value);
      }
      res.status(reply.status ?? 200);
      if (reply.text) {
        res.type(reply.text.contentType).send(reply.text.content);
      } else if (reply.raw) {
        res.type(reply.raw.contentType).end(reply.raw.content);
      } else if (reply.body === undefined) {
        res.end();
      } else {
        res.json(reply.body);
      }
    });
  }
}
