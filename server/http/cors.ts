import cors from 'cors';
import type { RequestHandler } from 'express';

/**
 * Request headers a browser app on another origin may send: the bearer token, JSON bodies, the booking
 * idempotency key, conditional layout fetches and a caller-chosen request id.
 */
const ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Idempotency-Key', 'If-None-Match', 'X-Request-Id'];
/** Response headers beyond the CORS-safelisted ones that such an app needs to read. */
const EXPOSED_HEADERS = ['ETag', 'Retry-After', 'X-Request-Id'];
/** How long a browser may cache a preflight answer (seconds): fewer OPTIONS round trips per seat action. */
const PREFLIGHT_MAX_AGE_S = 600;

/**
 * CORS for the REST API: the origins of `CORS_ORIGINS` (the same list that admits Socket.IO handshakes) may call
 * it from a browser; any other origin gets no CORS headers, so the browser keeps the answer from the page.
 * Credentials are not allowed: the API authenticates with a bearer token, never with cookies. Undefined when the
 * list is empty (same-origin only): nothing to add then.
 */
export function corsFor(origins: readonly string[]): RequestHandler | undefined {
  if (origins.length === 0) return undefined;
  const allowed = new Set(origins);
  return cors({
    origin: (origin, done) => done(null, origin !== undefined && allowed.has(origin)),
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    credentials: false,
    maxAge: PREFLIGHT_MAX_AGE_S,
  });
}
