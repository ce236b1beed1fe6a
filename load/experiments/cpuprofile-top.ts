/**
 * Where a V8 CPU profile's time went: `npx tsx load/experiments/cpuprofile-top.ts FILE.cpuprofile [top=25]`.
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

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: cpuprofile-top.ts FILE.cpuprofile [top]');
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
const wall = p.endTime - p.startTime;
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
