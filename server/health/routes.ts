import type { Express } from 'express';
import type { Db } from '../db/knex';
import type { ReadinessProbe } from '../shared/readiness';
import { withTimeout } from '../shared/with-timeout';

export type { ReadinessProbe };

/** `/healthz`: the process answers. `/readyz`: the database (and Redis, when used) answer. */
export function mountHealth(app: Express, deps: { db: Db; probes?: ReadinessProbe[]; isShuttingDown?: () => boolean }): void {
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    let ok = !deps.isShuttingDown?.();
    if (!ok) checks.process = 'shutting down';
    const probes: ReadinessProbe[] = [{ name: 'database', check: async () => void (await deps.db.raw('select 1')) }, ...(deps.probes ?? [])];
    await Promise.all(
      probes.map(async (p) => {
        try {
          await withTimeout(p.check(), 2000);
          checks[p.name] = 'ok';
        } catch (err) {
          ok = false;
          checks[p.name] = `unreachable: ${(err as Error).message ?? 'error'}`.slice(0, 200);
        }
      }),
    );
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not ready', checks });
  });
}
