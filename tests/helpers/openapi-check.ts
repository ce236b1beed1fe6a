import Ajv, { type ValidateFunction } from 'ajv';
import type { HttpReply } from './http';

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
