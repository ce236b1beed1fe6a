import { z } from 'zod';
import { ValidationError } from './errors';

/** Turns zod issues into the `details` of a VALIDATION_FAILED error: one entry per field. */
export function issuesToDetails(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }));
}

/** Parses `input` with `schema` or throws a ValidationError naming every bad field. */
export function parse<S extends z.ZodType>(schema: S, input: unknown, what = 'request'): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new ValidationError(`Invalid ${what}`, issuesToDetails(result.error));
  }
  return result.data;
}

/** Positive integer id, as found in URLs (`/api/events/12`). */
export const idParam = z.coerce.number().int().positive().max(2 ** 31 - 1);

/** Pagination query fields shared by every list. */
export const pageQuery = {
  page: z.coerce.number().int().min(1).max(100000).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(20),
};

export interface Page<T> {
  items: T[];
  page: number;
  limit: number;
  total: number;
}
