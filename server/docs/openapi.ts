import { z } from 'zod';
import type { AnyRouteSpec } from '../http/route';

const errorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

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

/** Builds the OpenAPI 3 document from the same zod schemas that validate requests. */
export function buildOpenApi(specs: AnyRouteSpec[], info: { version: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of specs) {
    const path = `/api${toOpenApiPath(spec.path)}`;
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(spec.responses)) {
      const isError = Number(status) >= 400;
      const schema = r.schema ? jsonSchema(r.schema, 'output') : isError ? jsonSchema(errorBody, 'output') : undefined;
      responses[status] = schema ? { description: r.description, content: { 'application/json': { schema } } } : { description: r.description };
    }
    responses['400'] ??= { description: 'VALIDATION_FAILED', content: { 'application/json': { schema: jsonSchema(errorBody, 'output') } } };
    if (spec.access !== 'public') responses['401'] ??= { description: 'UNAUTHORIZED (also: the user no longer exists), TOKEN_EXPIRED, INVALID_TOKEN, TOKEN_REVOKED, ACCOUNT_DEACTIVATED' };
    if (Array.isArray(spec.access)) responses['403'] ??= { description: 'FORBIDDEN' };
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
        'Real-time seat-map and booking server. Errors are always {"error": {"code", "message", "details"}}. Live seat status is on Socket.IO namespaces /events/<id> (see README).',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    paths,
  };
}
