import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, freemem, hostname, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { AuditResult } from './audit';
import { round } from './stats';

/** One measured figure; `baseline` and `ratio` when it has one, `target` (measured, never asserted). */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
  /** e.g. ">= 0.5 x baseline" */
  target?: string;
  met?: boolean;
  /** What the value means when it is not what the name says, e.g. a mark the run did not reach. */
  note?: string;
}

export interface Report {
  scenario: string;
  command: string;
  date: string;
  machine: { os: string; host: string; cpus: number; cpuModel: string; memoryGiB: number; freeMemoryGiB: number; node: string };
  options: Record<string, unknown>;
  durationS: number;
  figures: Figure[];
  details: Record<string, unknown>;
  audit?: AuditResult;
  file?: string;
}

export function machine(): Report['machine'] {
  const c = cpus();
  return {
    os: `${platform()} ${release()}`,
    host: hostname(),
    cpus: c.length,
    cpuModel: c[0]?.model ?? 'unknown',
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    freeMemoryGiB: round(freemem() / 2 ** 30, 1),
    node: process.version,
  };
}

/** A figure with its ratio to the baseline and whether a `>=`/`<=` target on that ratio (or value) is met. */
export function figure(name: string, value: number, unit: string, baseline?: number, target?: { ratio?: ['>=' | '<=', number]; value?: ['>=' | '<=', number] }, note?: string): Figure {
  const f: Figure = { name, value: round(value, 3), unit };
  if (note) f.note = note;
  if (baseline !== undefined && Number.isFinite(baseline)) {
    f.baseline = round(baseline, 3);
    f.ratio = baseline ? round(value / baseline, 3) : undefined;
  }
  const cmp = (op: '>=' | '<=', a: number, b: number) => (op === '>=' ? a >= b : a <= b);
  if (target?.ratio && f.ratio !== undefined) {
    f.target = `${target.ratio[0]} ${target.ratio[1]} x baseline`;
    f.met = cmp(target.ratio[0], f.ratio, target.ratio[1]);
  } else if (target?.value) {
    f.target = `${target.value[0]} ${target.value[1]} ${unit}`;
    // A noted value is a stand-in (e.g. "not reached: run length"), so it never meets its target.
    f.met = !note && cmp(target.value[0], value, target.value[1]);
  }
  return f;
}

export function formatTable(r: Report): string {
  const head = ['figure', 'value', 'unit', 'baseline', 'ratio', 'target', 'met'];
  const rows = r.figures.map((f) => [f.note ? `${f.name} [${f.note}]` : f.name, String(f.value), f.unit, f.baseline === undefined ? '' : String(f.baseline), f.ratio === undefined ? '' : String(f.ratio), f.target ?? '', f.met === undefined ? '' : f.met ? 'yes' : 'NO']);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [`${r.scenario}  ${r.date}  ${r.machine.cpus} x ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, ${r.machine.node}`, `$ ${r.command}`, '', line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  if (r.audit) {
    out.push('', `audit: ${r.audit.pass ? 'PASS' : 'FAIL'}`);
    for (const c of r.audit.checks) out.push(`  [${c.ok ? 'ok' : 'FAIL'}] ${c.name}: ${c.detail}`);
  }
  return out.join('\n');
}

/** Writes the report as JSON to `dir/<scenario>-<timestamp>.json`; returns the path. */
export function writeReport(r: Report, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${r.scenario}-${r.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(r, null, 2) + '\n');
  return file;
}
