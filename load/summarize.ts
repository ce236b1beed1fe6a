/**
 * Prints the latest report of each scenario under load/results/ as Markdown (for load/README.md):
 * `npx tsx load/summarize.ts [dir]`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from './report';

const dir = process.argv[2] ?? join(__dirname, 'results');
const latest = new Map<string, Report>();
for (const f of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
  const r = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Report;
  latest.set(`${r.scenario} ${r.command}`, { ...r, file: f });
}
for (const r of [...latest.values()].sort((a, b) => a.date.localeCompare(b.date))) {
  console.log(`#### ${r.scenario}: \`${r.command}\``);
  console.log(`${r.date}, ${r.machine.cpus} x ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}; audit **${r.audit?.pass ? 'PASS' : 'FAIL'}**; [${r.file}](results/${r.file})\n`);
  console.log('| figure | value | unit | baseline | ratio | target | met |');
  console.log('| --- | ---: | --- | ---: | ---: | --- | --- |');
  for (const f of r.figures) {
    const v = (x: number | undefined) => (x === undefined ? '' : x >= 100 ? String(Math.round(x)) : String(Math.round(x * 100) / 100));
    console.log(`| ${f.note ? `${f.name} [${f.note}]` : f.name} | ${v(f.value)} | ${f.unit} | ${v(f.baseline)} | ${v(f.ratio)} | ${f.target ?? ''} | ${f.met === undefined ? '' : f.met ? 'yes' : '**no**'} |`);
  }
  console.log('');
}
