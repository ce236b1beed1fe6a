import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, NotFoundError, RateLimitedError, toErrorBody } from '../shared/errors';
import type { Logger } from '../shared/logger';

/** 404 in the contract's error shape for any unknown route. */
export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new NotFoundError(`Route ${req.method} ${req.path}`, 'ROUTE_NOT_FOUND'));
};

/** The one error middleware: every failure leaves as `{error: {code, message, details}}`. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    let e: unknown = err;
    // body-parser errors carry a `type`; map them to our codes instead of leaking their text.
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') e = new AppError(413, 'PAYLOAD_TOO_LARGE', 'Request body is too large');
    else if (type === 'entity.parse.failed') e = new AppError(400, 'INVALID_JSON', 'Request body is not valid JSON');
    else if (type === 'encoding.unsupported' || type === 'charset.unsupported') e = new AppError(415, 'UNSUPPORTED_ENCODING', 'Unsupported body encoding');
    const { status, body } = toErrorBody(e);
    // A deliberate 503 (BUSY, SHUTTING_DOWN) is load shedding, not a failure: logging each would flood the logs.
    if (status >= 500 && !(e instanceof AppError)) ((req as { log?: Logger }).log ?? logger).error({ err }, 'request failed');
    if (e instanceof RateLimitedError) res.set('Retry-After', String(e.retryAfterSeconds));
    else if (status === 503) res.set('Retry-After', '1');
    if (res.headersSent) return;
    res.status(status).json({ error: body });
  };
}
