/**
 * Conditional and compressed replies for static, versioned resources (the venue layout). Node's zlib does the
 * compressing ahead of time (PublishedLayouts), so these helpers only choose: no compression middleware, no new
 * dependency, and nothing compressed twice.
 */

/** A content coding we can serve. */
export type Coding = 'br' | 'gzip' | 'identity';

/**
 * Picks the best coding the client accepts (RFC 9110 §12.5.3): brotli, then gzip, then none. `q=0` refuses a
 * coding; `*` stands for any coding not named. Without the header, identity.
 */
export function pickCoding(acceptEncoding: string | undefined): Coding {
  if (!acceptEncoding) return 'identity';
  const q = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = qParam ? Number(qParam.slice(2)) : 1;
    q.set(name, Number.isFinite(value) ? value : 0);
  }
  const accepts = (c: string) => (q.get(c) ?? q.get('*') ?? 0) > 0;
  if (accepts('br')) return 'br';
  if (accepts('gzip')) return 'gzip';
  return 'identity';
}

/**
 * Whether an If-None-Match header matches a strong ETag (weak comparison, as RFC 9110 §13.1.2 asks for GET):
 * `*`, or any listed tag equal to it with or without `W/`.
 */
export function noneMatch(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}
