/** Optimistic concurrency over HTTP: a versioned resource's ETag, and the version an `If-Match` names. */
import { AppError } from '../shared/errors';

/**
 * Parses an `If-Match` header into the version it names. Accepts `"3"`, `W/"3"` and `3`. A write without
 * one is refused (428): an admin edit must say which version it was made against.
 */
export function versionFromIfMatch(header: string | undefined): number {
  if (header === undefined || header.trim() === '') {
    throw new AppError(428, 'PRECONDITION_REQUIRED', 'Send If-Match with the ETag you read (e.g. If-Match: "3")');
  }
  const m = /^\s*(?:W\/)?"?([1-9][0-9]{0,9})"?\s*$/.exec(header);
  if (!m) throw new AppError(400, 'VALIDATION_FAILED', 'If-Match must be an ETag like "3"', [{ path: 'If-Match', message: 'not an ETag' }]);
  return Number(m[1]);
}

/** The ETag of a versioned resource. */
export const etagOf = (version: number): string => `"${version}"`;

