import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * The layers of docs/DESIGN.md, checked like a lint rule: a scan of every import in server/ (and of client-demo's
 * imports of the server), plus the size limit of one concept per file. Arrows may only point down:
 *
 *   entry → features → inventory → transport (realtime, http, …) → contracts → base (db, shared, config)
 *
 * Features may import each other (the waitlist books through bookings); a layer may import itself.
 */
const REPO = join(__dirname, '..', '..');
const SERVER = join(REPO, 'server');

/** Top to bottom. Every top-level folder (or file) of server/ must be in exactly one layer. */
export const LAYERS: { name: string; members: string[] }[] = [
  { name: 'entry', members: ['entry'] },
  { name: 'features', members: ['accounts', 'venues', 'events', 'seats', 'bookings', 'waitlist', 'ga', 'box-office', 'reports', 'health', 'webhooks', 'queue'] },
  { name: 'inventory', members: ['inventory'] },
  { name: 'transport', members: ['realtime', 'http', 'ratelimit', 'metrics', 'docs'] },
  { name: 'contracts', members: ['contracts'] },
  { name: 'base', members: ['db', 'shared', 'config.ts'] },
];

/** What the client package (and through it client-demo) may take from the server: the contracts, and SeatMap with its codec. */
const CLIENT_MAY_IMPORT = ['contracts', 'realtime/seat-map.ts', 'realtime/compact.ts'];

/** TypeScript sources kept under MAX_LINES (one concept per file). */
const SIZED = ['server', 'client-demo', 'packages', 'load', 'scripts', 'tests', 'migrations'];
const MAX_LINES = 300;

function sources(dir: string, ext = /\.(ts|mjs)$/): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist' || name === 'results') return [];
    if (statSync(path).isDirectory()) return sources(path, ext);
    return ext.test(name) ? [path] : [];
  });
}

/** Relative module specifiers in `code`: static and type imports, re-exports, dynamic import() and require(). */
export function importsIn(code: string): string[] {
  const found: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)'(\.{1,2}\/[^']*)'/gm;
  for (const m of code.matchAll(re)) found.push(m[1]!);
  return found;
}

/** The top-level entry of server/ a path falls in (`seats`, `config.ts`), or undefined outside server/. */
function areaOf(path: string): string | undefined {
  const rel = relative(SERVER, path);
  if (rel.startsWith('..')) return undefined;
  return rel.split(sep)[0]!;
}

function layerOf(area: string): number {
  const i = LAYERS.findIndex((l) => l.members.includes(area));
  if (i < 0) throw new Error(`server/${area} is in no layer: add it to LAYERS in tests/unit/layers.test.ts and to docs/DESIGN.md`);
  return i;
}

/** Imports in `code` (a file at `file`) that point up a layer, or from realtime/ into a feature. */
export function violations(file: string, code: string): string[] {
  const from = areaOf(file);
  if (from === undefined) return [];
  const out: string[] = [];
  for (const spec of importsIn(code)) {
    const path = resolve(dirname(file), spec);
    const to = areaOf(existsSync(`${path}.ts`) ? `${path}.ts` : path);
    if (to === undefined || to === from) continue; // outside server/ (migrations), or within one area
    const [a, b] = [layerOf(from), layerOf(to)];
    const where = `${relative(REPO, file)} imports ${spec}`;
    if (b < a) out.push(`${where}: ${LAYERS[a]!.name} (${from}) must not import ${LAYERS[b]!.name} (${to})`);
    else if (from === 'realtime' && LAYERS[b]!.name === 'features') out.push(`${where}: realtime/ imports no feature`);
  }
  return out;
}

describe('layers: arrows only point down', () => {
  it('When the check is pointed at known violations, then it reports them (the check can fail)', () => {
    const realtime = join(SERVER, 'realtime', 'io.ts');
    expect(violations(realtime, "import { registerSeatHandlers } from '../seats/socket-handlers';")).toHaveLength(1);
    expect(violations(realtime, "import type { Services } from '../entry/services';")).toHaveLength(1);
    expect(violations(join(SERVER, 'contracts', 'seats.ts'), "import { SEAT_CHANGE_REASONS } from '../inventory/seat-store';")).toHaveLength(1);
    expect(violations(join(SERVER, 'shared', 'x.ts'), "export { x } from '../contracts';")).toHaveLength(1);
    expect(violations(join(SERVER, 'inventory', 'x.ts'), "const m = await import('../ga/service');")).toHaveLength(1);
    // Down, sideways between features, and within an area are fine.
    expect(violations(join(SERVER, 'entry', 'x.ts'), "import { a } from '../seats/service';\nimport b from '../shared/clock';")).toEqual([]);
    expect(violations(join(SERVER, 'waitlist', 'x.ts'), "import type { BookingsService } from '../bookings/service';")).toEqual([]);
  });

  it('When every server file is scanned, then none imports a layer above its own and realtime/ imports no feature', () => {
    const top = readdirSync(SERVER);
    for (const area of top) layerOf(area); // every folder is placed
    const offenders = sources(SERVER).flatMap((f) => violations(f, readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('When client-demo is scanned, then it takes nothing from the server but through the client package', () => {
    const offenders = sources(join(REPO, 'client-demo', 'src')).flatMap((f) =>
      importsIn(readFileSync(f, 'utf8'))
        .map((spec) => relative(SERVER, resolve(dirname(f), spec)))
        .filter((rel) => !rel.startsWith('..'))
        .map((rel) => `${relative(REPO, f)} imports server/${rel} (take it from packages/client)`),
    );
    expect(offenders).toEqual([]);
  });

  it('When the client package is scanned, then it takes from the server only the contracts and SeatMap with its codec', () => {
    const offenders = sources(join(REPO, 'packages', 'client', 'src')).flatMap((f) =>
      importsIn(readFileSync(f, 'utf8'))
        .map((spec) => relative(SERVER, resolve(dirname(f), spec)))
        .filter((rel) => !rel.startsWith('..'))
        .filter((rel) => !CLIENT_MAY_IMPORT.some((ok) => rel === ok.replace(/\.ts$/, '') || rel.startsWith(`${ok}${sep}`) || rel === ok))
        .map((rel) => `${relative(REPO, f)} imports server/${rel}`),
    );
    expect(offenders).toEqual([]);
  });
});

describe('files: one concept each', () => {
  it(`When every TypeScript source is measured, then none is over ${MAX_LINES} lines`, () => {
    const over = SIZED.filter((d) => existsSync(join(REPO, d)))
      .flatMap((d) => sources(join(REPO, d)))
      .map((f) => ({ file: relative(REPO, f), lines: readFileSync(f, 'utf8').split('\n').length - 1 }))
      .filter((f) => f.lines > MAX_LINES)
      .map((f) => `${f.file}: ${f.lines} lines`);
    expect(over).toEqual([]);
  });
});
