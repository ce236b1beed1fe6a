import type { ErrorBody } from '../../../server/contracts';
import { EventlyError } from './errors';

/** The `fetch` the client calls (the global one by default; pass your own for tests or older runtimes). */
export type FetchLike = (input: string, init: { method: string; headers: Record<string, string>; body?: string }) => Promise<{
  ok: boolean;
  status: number;
  text(): Promise<string>;
}>;

export interface RestOptions {
  baseUrl: string;
  fetch: FetchLike;
  /** Read on every call, so a sign-in (or `client.token = …`) applies to the next request. */
  token: () => string | undefined;
}

/** Query parameters: undefined ones are left out, the rest are stringified. */
export type Query = Record<string, string | number | boolean | undefined>;

/**
 * One JSON REST call under `/api`. Resolves with the parsed body (undefined for an empty answer); rejects with
 * an EventlyError carrying the server's `{error}` body and the HTTP status, or a NETWORK error with no status.
 */
export async function request<T>(opts: RestOptions, method: string, path: string, init: { body?: unknown; query?: Query; headers?: Record<string, string> } = {}): Promise<T> {
  const url = new URL(`/api${path}`, opts.baseUrl);
  for (const [k, v] of Object.entries(init.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
  const token = opts.token();
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let res: Awaited<ReturnType<FetchLike>>;
  let text: string;
  try {
    res = await opts.fetch(url.toString(), { method, headers, ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }) });
    text = await res.text();
  } catch (cause) {
    throw new EventlyError({ code: 'NETWORK', message: `${method} ${url.pathname}: ${(cause as Error)?.message ?? 'network error'}` }, undefined, { cause });
  }
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch (cause) {
    // Not JSON: a proxy's error page, or a wrong baseUrl.
    throw new EventlyError({ code: res.ok ? 'BAD_RESPONSE' : 'HTTP_ERROR', message: `${method} ${url.pathname}: HTTP ${res.status}, not JSON` }, res.status, { cause });
  }
  if (!res.ok) {
    const body = (parsed as { error?: ErrorBody } | undefined)?.error;
    throw new EventlyError(body?.code ? body : { code: 'HTTP_ERROR', message: `${method} ${url.pathname}: HTTP ${res.status}` }, res.status);
  }
  return parsed as T;
}

/** A fresh idempotency key (a booking retried with the same key is booked once). */
export function newIdempotencyKey(): string {
  return globalThis.crypto.randomUUID();
}
