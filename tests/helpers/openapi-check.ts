import Ajv, { type ValidateFunction } from 'ajv';
import { randomUUID } from 'node:crypto';
import type { Dialect } from './dialects';
import { createUsers, startTestEnv, type TestEnv } from './env';
import { http, type HttpReply } from './http';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
/** The parts of /openapi.json a contract check reads. */
export type OpenApiDoc = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>; components: unknown };

/**
 * Checks real answers against the served OpenAPI document: each must be a documented status of its operation, with
 * a documented media type, and a JSON body must match that status's schema (ajv; response objects are closed, so
 * an undocumented field fails). Every checked operation is added to `covered`.
 */
export function contractChecker(doc: () => OpenApiDoc, covered: Set<string>): (method: Method, template: string, res: HttpReply) => void {
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  const validators = new Map<string, ValidateFunction>();
  return (method, template, res) => {
    const op = doc().paths[template]?.[method];
    if (!op) throw new Error(`${method.toUpperCase()} ${template} is not in /openapi.json`);
    const documented = op.responses[String(res.status)];
    if (!documented) throw new Error(`${method.toUpperCase()} ${template} answered ${res.status}, not documented (${Object.keys(op.responses).join(', ')}): ${JSON.stringify(res.body)}`);
    covered.add(`${method} ${template}`);
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    if (!type) {
      expect(documented.content).toBeUndefined();
      return;
    }
    const media = documented.content?.[type];
    if (!media) throw new Error(`${method.toUpperCase()} ${template} ${res.status} answered ${type}, documented: ${Object.keys(documented.content ?? {}).join(', ') || 'no body'}`);
    if (type !== 'application/json') {
      expect(typeof res.body).toBe('string');
      return;
    }
    const key = `${method} ${template} ${res.status}`;
    let validate = validators.get(key);
    if (!validate) {
      validate = ajv.compile({ ...(media.schema as object), components: doc().components });
      validators.set(key, validate);
    }
    if (!validate(res.body)) {
      throw new Error(`${key}: the answer does not match the documented schema: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(res.body).slice(0, 2000)}`);
    }
  };
}

/** Options of one contract call: path parameters, query string, token, body, headers. */
export type CallOptions = { params?: Record<string, string | number>; query?: string; token?: string; body?: unknown; headers?: Record<string, string> };
export type ContractCall = (method: Method, template: string, opts?: CallOptions) => Promise<HttpReply>;

/** Calls `template` (OpenAPI form, e.g. /api/events/{id}) on `url()` with `params` filled in, and checks the answer with `check`. */
export function contractCall(url: () => string, check: (method: Method, template: string, res: HttpReply) => void): ContractCall {
  return async (method, template, opts = {}) => {
    const path = template.replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent(String(opts.params?.[k])));
    const res = await http(url(), method.toUpperCase(), opts.query ? `${path}?${opts.query}` : path, { token: opts.token, body: opts.body, headers: opts.headers });
    check(method, template, res);
    return res;
  };
}

type User = { id: number; token: string };

/** What a contract test runs against: one node (no sweeper), the document it serves, an admin, a clerk and two buyers. */
export interface ContractEnv {
  env: TestEnv;
  url: string;
  doc: OpenApiDoc;
  admin: User;
  clerk: User;
  alice: User;
  bob: User;
}

/** Starts a ContractEnv on `dialect` (stop it with `env.stop()`). */
export async function openContractEnv(dialect: Dialect): Promise<ContractEnv> {
  const env = await startTestEnv({ dialect, sweeper: false });
  const url = env.nodes[0]!.url;
  const doc = (await http(url, 'GET', '/openapi.json')).body as OpenApiDoc;
  const [admin] = await createUsers(env, 1, 'admin');
  const [clerk] = await createUsers(env, 1, 'box_office');
  const [alice, bob] = await createUsers(env, 2);
  return { env, url, doc, admin: admin!, clerk: clerk!, alice: alice!, bob: bob! };
}

/** The prices of venueAndEventVia's two categories, for a test that makes another event on its venue. */
export const contractPrices = [
  { category: 'standard', priceCents: 3000 },
  { category: 'standing', priceCents: 1500 },
];

/** An on-sale event over a new venue, made through the admin API: seated section Main (1 row x seats) and GA area Standing. */
export async function venueAndEventVia(call: ContractCall, adminToken: string, startsAt: string, seats: number): Promise<{ venueId: number; eventId: number; seatIds: number[]; gaSectionId: number }> {
  const venue = await call('post', '/api/admin/venues', {
    token: adminToken,
    body: {
      name: `Hall ${randomUUID().slice(0, 8)}`,
      sections: [
        { kind: 'rectangular', name: 'Main', rows: 1, seatsPerRow: seats, category: 'standard', accessibleRows: [0] },
        { name: 'Standing', kind: 'ga', capacity: 20, category: 'standing' },
      ],
    },
  });
  if (venue.status !== 201) throw new Error(`venue: ${venue.status} ${JSON.stringify(venue.body)}`);
  const event = await call('post', '/api/admin/events', {
    token: adminToken,
    body: { venueId: venue.body.id, name: 'Contract night', startsAt, status: 'on_sale', maxSeatsPerOrder: seats, maxSeatsPerUser: 40, prices: contractPrices },
  });
  if (event.status !== 201) throw new Error(`event: ${event.status} ${JSON.stringify(event.body)}`);
  const seatIds = (venue.body.layout.seats as { id: number; section: string }[]).filter((s) => s.section === 'Main').map((s) => s.id);
  const ga = (venue.body.layout.sections as { id: number; kind: string }[]).find((s) => s.kind === 'ga')!;
  return { venueId: venue.body.id, eventId: event.body.id, seatIds, gaSectionId: ga.id };
}
