/**
 * Where a V8 CPU profile's time went: `npx tsx load/experiments/cpuprofile-top.ts FILE.cpuprofile [top=25] [fromS toS]`
 * (the window: seconds from the profile's start; default the whole profile). `--buckets` prints busy per 2 s first.
 * Prints the busy share, self time by function (name, file:line) and by package (node_modules/<pkg>, server/<dir>,
 * node internals), as shares of the profile's wall time. For `node --cpu-prof` runs and LOAD_NODE_CPU_PROF.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const args = process.argv.slice(2).filter((a) => a !== '--buckets');
const [file, topArg, fromArg, toArg] = args;
if (!file) throw new Error('usage: cpuprofile-top.ts FILE.cpuprofile [top]');
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
const from = fromArg === undefined ? 0 : Number(fromArg) * 1e6;
const to = toArg === undefined ? Infinity : Number(toArg) * 1e6;
const idleIds = new Set(p.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
const buckets: [number, number][] = [];
let t = 0;
p.samples.forEach((id, i) => {
  const d = p.timeDeltas[i] ?? 0;
  t += d;
  const b = (buckets[Math.floor(t / 2e6)] ??= [0, 0]);
  b[1] += d;
  if (!idleIds.has(id)) b[0] += d;
  if (t >= from && t < to) self.set(id, (self.get(id) ?? 0) + d);
});
if (process.argv.includes('--buckets')) console.log(buckets.map((b, i) => `${i * 2}s:${Math.round((100 * b[0]) / Math.max(1, b[1]))}%`).join(' '));
const wall = Math.min(to, p.endTime - p.startTime) - from;
const fn = new Map<string, number>();
const pkg = new Map<string, number>();
let idle = 0;
for (const [id, us] of self) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  if (functionName === '(idle)') idle += us;
  const where = url.replace(/^file:\/\//, '').replace(/.*\/work\/[^/]+\//, '');
  fn.set(`${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`, (fn.get(`${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`) ?? 0) + us);
  const m = where.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
  const group = m ? m[1]! : where.startsWith('server/') ? where.split('/').slice(0, 2).join('/') : where.startsWith('load/') ? 'load/' : where ? 'node:' + where.split('/')[0] : functionName;
  pkg.set(group, (pkg.get(group) ?? 0) + us);
}
const pct = (us: number) => `${((100 * us) / wall).toFixed(1)}%`;
console.log(`wall ${(wall / 1e6).toFixed(1)} s, busy ${pct(wall - idle)}`);
const top = Number(topArg ?? 25);
console.log('\nself time by function:');
for (const [k, us] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us).padStart(6)}  ${k}`);
console.log('\nself time by package:');
for (const [k, us] of [...pkg].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us).padStart(6)}  ${k}`);
