import { z } from 'zod';
import { errorBody } from '../contracts/errors';
import type { AnyRouteSpec } from '../http/route';


const ERROR_REF = { $ref: '#/components/schemas/Error' };
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ERROR_REF } } });

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): unknown {
  // `unrepresentable: 'any'` keeps transforms/refinements from failing the whole document.
  return z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'openapi-3.0' });
}

/** Express `:id` → OpenAPI `{id}`. */
const toOpenApiPath = (p: string): string => p.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

function parametersOf(spec: AnyRouteSpec): unknown[] {
  const out: unknown[] = [];
  const add = (schema: z.ZodType | undefined, where: 'path' | 'query') => {
    if (!schema) return;
    const js = jsonSchema(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, s] of Object.entries(js.properties ?? {})) {
      out.push({ name, in: where, required: where === 'path' || (js.required ?? []).includes(name), schema: s });
    }
  };
  add(spec.params, 'path');
  add(spec.query, 'query');
  for (const [name, h] of Object.entries(spec.headers ?? {})) {
    out.push({ name, in: 'header', required: h.required, description: h.description, schema: { type: 'string' } });
  }
  return out;
}

/**
 * Answers every /api route can give whatever it does, added to those it declares: validation, rate limit
 * (per client, REST-wide), an over-size body, load shedding and a backing service down, an internal error.
 */
function commonErrors(spec: AnyRouteSpec): Record<string, string> {
  return {
    400: 'VALIDATION_FAILED (path, query, body or header), INVALID_JSON',
    ...(spec.access !== 'public'
      ? { 401: 'UNAUTHORIZED (also: the user no longer exists), TOKEN_EXPIRED, INVALID_TOKEN, TOKEN_REVOKED, ACCOUNT_DEACTIVATED' }
      : { 401: 'INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED, ACCOUNT_DEACTIVATED (a token sent to a public route is still checked)' }),
    ...(Array.isArray(spec.access) ? { 403: 'FORBIDDEN' } : {}),
    ...(spec.method === 'get' ? {} : { 413: 'PAYLOAD_TOO_LARGE', 415: 'UNSUPPORTED_ENCODING' }),
    429: 'RATE_LIMITED (Retry-After says when to try again)',
    500: 'INTERNAL (no details leak)',
    503: 'SERVICE_UNAVAILABLE (database or Redis down), BUSY (writes shed under load), SHUTTING_DOWN; with Retry-After',
  };
}

/** Routes outside /api: probes, metrics and the documents themselves. */
function operationalPaths(): Record<string, Record<string, unknown>> {
  const json = (schema: unknown) => ({ 'application/json': { schema } });
  const text = { 'text/plain': { schema: { type: 'string' } } };
  const readiness = {
    type: 'object',
    required: ['status', 'checks'],
    properties: { status: { type: 'string', enum: ['ready', 'not ready'] }, checks: { type: 'object', additionalProperties: { type: 'string' } } },
    additionalProperties: false,
  };
  return {
    '/healthz': {
      get: {
        summary: 'Liveness: the process answers',
        tags: ['operations'],
        responses: {
          200: { description: 'Alive', content: json({ type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['ok'] } }, additionalProperties: false }) },
        },
      },
    },
    '/readyz': {
      get: {
        summary: 'Readiness: the database (and Redis, when used) answer and the node is not draining',
        tags: ['operations'],
        responses: { 200: { description: 'Ready', content: json(readiness) }, 503: { description: 'Not ready: which check failed', content: json(readiness) } },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics (text exposition format)',
        tags: ['operations'],
        responses: { 200: { description: 'Metrics', content: text } },
      },
    },
    '/openapi.json': {
      get: { summary: 'This document', tags: ['operations'], responses: { 200: { description: 'OpenAPI 3.0 document', content: json({ type: 'object' }) } } },
    },
  };
}

/**
 * Builds the OpenAPI 3 document from the same zod schemas that validate requests. Every route lists each
 * status it can answer; every error status carries the Error schema; a route with a text form (CSV) lists it
 * under its own media type. The integration suite validates real answers against this document
 * (tests/integration/openapi-contract.test.ts), so the response schemas are checked, not only documentation.
 */
export function buildOpenApi(specs: AnyRouteSpec[], info: { version: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of specs) {
    const path = `/api${toOpenApiPath(spec.path)}`;
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(spec.responses)) {
      if (Number(status) >= 400) {
        responses[status] = errorResponse(r.description);
        continue;
      }
      const content: Record<string, unknown> = {};
      if (r.schema) content['application/json'] = { schema: jsonSchema(r.schema, 'output') };
      if (r.text) content[r.text] = { schema: { type: 'string' } };
      responses[status] = Object.keys(content).length ? { description: r.description, content } : { description: r.description };
    }
    for (const [status, description] of Object.entries(commonErrors(spec))) {
      const declared = spec.responses[Number(status)];
      responses[status] = errorResponse(declared ? `${declared.description}; ${description}` : description);
    }
    paths[path] ??= {};
    paths[path][spec.method] = {
      summary: spec.summary,
      tags: [spec.tag],
      ...(spec.access === 'public' ? {} : { security: [{ bearer: [] }] }),
      ...(Array.isArray(spec.access) ? { description: `Roles: ${spec.access.join(', ')}` } : {}),
      parameters: parametersOf(spec),
      ...(spec.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(spec.body, 'input') } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'Evently API',
      version: info.version,
      description:
        'Real-time seat-map and booking server. Errors are always {"error": {"code", "message", "details"}} (the Error schema). Live seat status is on Socket.IO namespaces /events/<id> (see README).',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Error: jsonSchema(errorBody, 'output') },
    },
    paths: { ...operationalPaths(), ...paths },
  };
}
