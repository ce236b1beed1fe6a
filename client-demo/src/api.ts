import type { ErrorBody, LayoutSeat } from '../../packages/client/src';

/** The signed-in user as the server's /api/auth replies describe it. */
export interface User {
  id: number;
  email: string;
  name: string;
  role: 'user' | 'box_office' | 'admin';
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.message);
  }
}

const KEY = 'evently.session';

/** The session lives in localStorage so every tab (and a reload) stays signed in. */
export const session = {
  get(): { token: string; user: User } | null {
    try {
      const raw = localStorage.getItem(KEY);
      return raw ? (JSON.parse(raw) as { token: string; user: User }) : null;
    } catch {
      return null;
    }
  },
  set(token: string, user: User): void {
    localStorage.setItem(KEY, JSON.stringify({ token, user }));
  },
  clear(): void {
    localStorage.removeItem(KEY);
  },
};

/** JSON REST call; throws ApiError with the server's `{error}` body (or a NETWORK one). */
export async function api<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const s = session.get();
  const h: Record<string, string> = { accept: 'application/json', ...headers };
  if (s) h.authorization = `Bearer ${s.token}`;
  if (body !== undefined) h['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, { code: 'NETWORK', message: 'network error' });
  }
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const err = (parsed as { error?: ErrorBody } | undefined)?.error ?? { code: res.status === 404 ? 'ROUTE_NOT_FOUND' : 'INTERNAL', message: `HTTP ${res.status}` };
    throw new ApiError(res.status, err);
  }
  return parsed as T;
}

export function errorBody(err: unknown): ErrorBody {
  if (err instanceof ApiError) return err.body;
  return { code: 'INTERNAL', message: (err as Error)?.message ?? 'error' };
}

/** One seat of the layout (the wire type, shared with the server). */
export type { LayoutSeat };

/** Event detail as GET /api/events/:id returns it. */
export interface EventDetail {
  id: number;
  name: string;
  description: string | null;
  startsAt: string;
  status: string;
  holdTtlSeconds: number;
  maxSeatsPerOrder: number;
  currency: string;
  prices: { category: string; priceCents: number }[];
  /** Without `layout` when asked with `?layout=false` (the demo takes it from `GET /api/events/:id/layout`). */
  venue: { id: number; name: string; address: string | null; seatCount: number; layout?: { sections: { id: number; name: string; kind: string }[]; seats: LayoutSeat[] } };
}

export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
