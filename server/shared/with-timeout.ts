/**
 * `p`, or a rejection with "no answer within `ms` ms" if it has not settled by then (the timer is cleared when
 * `p` settles first). `p` itself is not cancelled: for waits on a dependency that may hang (a Redis reply, a probe).
 */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(t);
        reject(err);
      },
    );
  });
}
