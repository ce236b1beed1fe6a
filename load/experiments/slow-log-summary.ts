/**
 * Sums MariaDB's slow log per statement shape (the first 70 characters), biggest total first: where the database's
 * own time goes during a run. Turn the log on for everything before the run and off after it:
 *
 *   mysql -uroot -h127.0.0.1 -e "SET GLOBAL slow_query_log_file='/tmp/slow.log'; SET GLOBAL long_query_time=0; SET GLOBAL slow_query_log=1"
 *   npx tsx load/cli.ts flash-sale --duration 20 --baseline false --progress false
 *   mysql -uroot -h127.0.0.1 -e "SET GLOBAL slow_query_log=0; SET GLOBAL long_query_time=10"
 *   npx tsx load/experiments/slow-log-summary.ts /tmp/slow.log
 */
import { readFileSync } from 'node:fs';

interface Shape {
  n: number;
  s: number;
  max: number;
  lock: number;
  examined: number;
}

const shapes = new Map<string, Shape>();
let current: { s: number; lock: number; examined: number; sql: string[] } | undefined;
const flush = () => {
  if (!current) return;
  const key = current.sql.join(' ').replace(/\s+/g, ' ').trim().slice(0, 70);
  const e = shapes.get(key) ?? { n: 0, s: 0, max: 0, lock: 0, examined: 0 };
  e.n++;
  e.s += current.s;
  e.max = Math.max(e.max, current.s);
  e.lock += current.lock;
  e.examined += current.examined;
  shapes.set(key, e);
  current = undefined;
};
for (const line of readFileSync(process.argv[2] ?? '/tmp/slow.log', 'latin1').split('\n')) {
  const m = /^# Query_time: ([\d.]+)\s+Lock_time: ([\d.]+)\s+Rows_sent: \d+\s+Rows_examined: (\d+)/.exec(line);
  if (m) {
    flush();
    current = { s: Number(m[1]), lock: Number(m[2]), examined: Number(m[3]), sql: [] };
  } else if (current && !line.startsWith('#') && !line.startsWith('SET timestamp') && !line.startsWith('use ')) current.sql.push(line.trim());
}
flush();
const total = [...shapes.values()].reduce((t, e) => t + e.s, 0);
console.log(`total query time ${total.toFixed(2)} s`);
for (const [sql, e] of [...shapes].sort((a, b) => b[1].s - a[1].s).slice(0, 25)) {
  console.log(
    `${String(e.n).padStart(6)} ${e.s.toFixed(3).padStart(8)} s  avg ${((e.s / e.n) * 1000).toFixed(2).padStart(7)} ms  max ${(e.max * 1000).toFixed(1).padStart(7)} ms  lock ${e.lock.toFixed(3)} s  rows examined/q ${(e.examined / e.n).toFixed(0).padStart(6)}  ${sql}`,
  );
}
