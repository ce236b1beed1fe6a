import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * One writer per table (docs/DESIGN.md): only server/inventory/ may write event_seats, holds, seat_changes and
 * booking_seats. A scan of the source, like a lint rule: every query builder started on one of those tables
 * outside the inventory must not reach an insert, update or delete before its statement ends.
 */
const ROOT = join(__dirname, '..', '..', 'server');
const TABLES = ['event_seats', 'holds', 'seat_changes', 'booking_seats'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Writes to the four tables in `code`: `<db>('table' …)` chains that reach .insert/.update/.delete/.del/.truncate. */
export function writesIn(code: string): string[] {
  const found: string[] = [];
  const start = new RegExp(`\\(\\s*'(${TABLES.join('|')})(?:\\s+as\\s+\\w+)?'\\s*\\)`, 'g');
  for (const m of code.matchAll(start)) {
    const rest = code.slice(m.index! + m[0].length);
    const end = rest.search(/;|\n\s*\n/);
    const statement = end < 0 ? rest : rest.slice(0, end);
    const write = /\.(insert|update|delete|del|truncate)\s*\(/.exec(statement);
    if (write) found.push(`${m[1]}.${write[1]}`);
  }
  return found;
}

describe('the inventory core is the only writer of seat state', () => {
  it('When the scan is pointed at known writes, then it finds them (the check can fail)', () => {
    expect(writesIn("await trx('holds').where({ id }).update({ status: 'released' });")).toEqual(['holds.update']);
    expect(writesIn("const [id] = await trx('seat_changes')\n  .insert(rows);")).toEqual(['seat_changes.insert']);
    expect(writesIn("await db('event_seats as es').where('x', 1).select('seat_id');")).toEqual([]);
  });

  it('When every server file outside server/inventory is scanned, then none writes event_seats, holds, seat_changes or booking_seats', () => {
    const offenders = sources(ROOT)
      .filter((f) => !relative(ROOT, f).startsWith('inventory'))
      .flatMap((f) => writesIn(readFileSync(f, 'utf8')).map((w) => `${relative(ROOT, f)}: ${w}`));
    expect(offenders).toEqual([]);
  });
});
