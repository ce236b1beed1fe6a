/** Profiles the inventory batch path without sockets: N contenders hold then release one of 10 seats, per-statement timings. */
import { startTestEnv, createUsers, seedEvent } from '../../tests/helpers/env';
import { systemClock } from '../../server/shared/clock';

async function main() {
  const dialect = (process.env.DIALECT ?? 'mysql') as 'mysql' | 'sqlite';
  const n = Number(process.env.N ?? 8);
  const env = await startTestEnv({ dialect, poolMax: 10, sweeper: false });
  const node = env.nodes[0]!;
  const ev = await seedEvent(env, { rows: 1, seatsPerRow: 10 });
  const users = await createUsers(env, n);
  const inv = node.services.inventory;
  const stmt = new Map<string, { n: number; ms: number }>();
  const started = new Map<string, number>();
  node.db.on('query', (q: any) => started.set(q.__knexQueryUid, performance.now()));
  node.db.on('query-response', (_r: any, q: any) => {
    const t0 = started.get(q.__knexQueryUid); if (t0 === undefined) return;
    const key = String(q.sql).slice(0, 40);
    const s = stmt.get(key) ?? { n: 0, ms: 0 }; s.n++; s.ms += performance.now() - t0; stmt.set(key, s);
  });
  let batches = 0, cmds = 0, batchMs = 0;
  (inv as any).deps.onBatch = (_e: number, c: number, ms: number) => { batches++; cmds += c; batchMs += ms; };
  const until = performance.now() + Number(process.env.MS ?? 5000);
  let holds = 0, conflicts = 0;
  await Promise.all(users.map(async (u) => {
    const actor = { id: u.id, role: 'user' as const, email: u.email, name: 'x' };
    while (performance.now() < until) {
      const seat = ev.seatIds[Math.floor(Math.random() * ev.seatIds.length)]!;
      try {
        const h = await inv.hold(actor as any, ev.eventId, { seatIds: [seat] });
        holds++;
        await inv.release(actor as any, h.hold.token);
      } catch { conflicts++; }
    }
  }));
  const secs = Number(process.env.MS ?? 5000) / 1000;
  console.log({ dialect, n, attemptsPerS: (holds + conflicts) / secs, holdsPerS: holds / secs, batches, cmdsPerBatch: cmds / batches, batchMsMean: batchMs / batches });
  const rows = [...stmt].sort((a, b) => b[1].ms - a[1].ms).map(([k, v]) => ({ sql: k, n: v.n, meanMs: +(v.ms / v.n).toFixed(3), perBatch: +(v.n / batches).toFixed(2) }));
  console.table(rows.slice(0, 20));
  void systemClock;
  await env.stop();
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
