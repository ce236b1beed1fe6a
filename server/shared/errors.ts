/**
 * V8's count of frames a new error captures (Node, Chromium). This file also ships in the browser client
 * package: other engines have no such setting, and setting it there changes nothing.
 */
const v8Error = Error as ErrorConstructor & { stackTraceLimit?: number };

/**
 * Typed application errors. Every failure a client can see is one of these; the REST error middleware
 * and the socket ack wrapper turn them into `{error: {code, message, details}}` with the matching status.
 * Anything that is not an AppError is reported as `INTERNAL` without its message (no SQL, no stack).
 */
export class AppError extends Error {
  /** HTTP status that REST replies with. */
  readonly status: number;
  /** Stable UPPER_SNAKE code clients switch on. */
  readonly code: string;
  /** Machine-readable extras (field errors, the seats that were taken, …). */
  readonly details?: unknown;

  // Fields assigned below, not parameter properties: those would oblige `super()` to be the constructor's first
  // statement (TS2401 for targets before ES2022, such as client-demo's).
  constructor(status: number, code: string, message: string, details?: unknown) {
    // An AppError is an answer, not a fault: REST and socket commands send it to the client as its code, and log
    // only errors that are not AppErrors, with their stacks. Capturing the frames is most of the cost of making one,
    // and a flash sale refuses thousands of holds a second (SEAT_UNAVAILABLE), so none are captured. A background
    // task that logs one still shows its name, code and message.
    const limit = v8Error.stackTraceLimit;
    v8Error.stackTraceLimit = 0;
    try {
      super(message);
    } finally {
      v8Error.stackTraceLimit = limit;
    }
    this.status = status;
    this.code = code;
    this.details = details;
    this.name = new.target.name;
  }

  toJSON(): { code: string; message: string; details?: unknown } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export class ValidationError extends AppError {
  constructor(message: string, details?: unknown) {
    super(400, 'VALIDATION_FAILED', message, details);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'Authentication required', code = 'UNAUTHORIZED') {
    super(401, code, message);
  }
}

/** The token's user no longer exists, was deactivated, or revoked the token (its token version moved on). */
export class AccessRevokedError extends UnauthorizedError {
  constructor(reason: 'gone' | 'deactivated' | 'revoked') {
    super(
      reason === 'gone' ? 'This account no longer exists' : reason === 'deactivated' ? 'This account has been deactivated' : 'This session was ended; sign in again',
      reason === 'gone' ? 'UNAUTHORIZED' : reason === 'deactivated' ? 'ACCOUNT_DEACTIVATED' : 'TOKEN_REVOKED',
    );
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'You are not allowed to do that') {
    super(403, 'FORBIDDEN', message);
  }
}

export class NotFoundError extends AppError {
  constructor(what: string, code = 'NOT_FOUND', details?: unknown) {
    super(404, code, `${what} not found`, details);
  }
}

export class ConflictError extends AppError {
  constructor(code: string, message: string, details?: unknown) {
    super(409, code, message, details);
  }
}

export class PreconditionFailedError extends AppError {
  constructor(message = 'The resource changed since you read it', details?: unknown) {
    super(412, 'PRECONDITION_FAILED', message, details);
  }
}

export class UnprocessableError extends AppError {
  constructor(code: string, message: string, details?: unknown) {
    super(422, code, message, details);
  }
}

export class RateLimitedError extends AppError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'RATE_LIMITED', 'Too many requests, slow down', { retryAfterSeconds });
  }
}

/** Seats asked for are held, booked or blocked (by anyone, the asker's own waitlist offer included); `details.seatIds` lists them. */
export class SeatUnavailableError extends ConflictError {
  constructor(seatIds: number[]) {
    super('SEAT_UNAVAILABLE', 'One or more of these seats are not available (held, booked or blocked)', { seatIds });
  }
}

/** Network-level codes of a database (or Redis) that is down, restarting or refusing connections. */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'PROTOCOL_CONNECTION_LOST', 'ER_SERVER_SHUTDOWN', 'ER_CON_COUNT_ERROR']);

/**
 * True for failures of a backing service rather than of the request: the database restarting, a lost
 * connection, a pool that could not get a connection in time. The client may retry (bookings are
 * idempotent by key), so these answer 503 SERVICE_UNAVAILABLE instead of 500.
 */
export function isServiceUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; name?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if ((typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code)) || e.name === 'KnexTimeoutError') return true;
  // mysql2, when a transaction's connection died under it (its ROLLBACK then fails without a code).
  return typeof e.message === 'string' && /connection is in closed state|Connection lost/i.test(e.message);
}

/** Shapes any thrown value into the public error body; unknown errors become INTERNAL. */
export function toErrorBody(err: unknown): { status: number; body: { code: string; message: string; details?: unknown } } {
  if (err instanceof AppError) return { status: err.status, body: err.toJSON() };
  if (isServiceUnavailable(err)) return { status: 503, body: { code: 'SERVICE_UNAVAILABLE', message: 'A backing service is unavailable; retry shortly' } };
  return { status: 500, body: { code: 'INTERNAL', message: 'Something went wrong on our side' } };
}
