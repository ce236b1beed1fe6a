import pino from 'pino';

export type Logger = pino.Logger;

/** Structured JSON logs; one logger per node, children per request/socket. */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...bindings }, redact: ['req.headers.authorization', 'token', 'password'] });
}
