import type { ErrorBody } from '../../../server/contracts';

/**
 * Every failure the client reports: a REST error answer (with its HTTP `status`), a refused socket command (no
 * status; the ack's `{code, message, details}`), or a local one (`NETWORK`, `TIMEOUT`, `BAD_RESPONSE`). `code`
 * is the server's UPPER_SNAKE code (e.g. `SEAT_UNAVAILABLE`, whose `details.seatIds` lists the taken seats).
 */
export class EventlyError extends Error {
  readonly status?: number;
  readonly code: string;
  readonly details?: unknown;

  constructor(body: ErrorBody, status?: number, options?: { cause?: unknown }) {
    super(body.message, options);
    this.name = 'EventlyError';
    this.code = body.code;
    if (status !== undefined) this.status = status;
    if (body.details !== undefined) this.details = body.details;
  }

  /** The wire form `{code, message, details?}`. */
  toJSON(): ErrorBody {
    return { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) };
  }
}

/** Narrows an unknown rejection; optionally to one code (`isEventlyError(err, 'SEAT_UNAVAILABLE')`). */
export function isEventlyError(err: unknown, code?: string): err is EventlyError {
  return err instanceof EventlyError && (code === undefined || err.code === code);
}
