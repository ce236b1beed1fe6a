import { randomInt } from 'node:crypto';
import type fc from 'fast-check';

/**
 * Seeds for property tests. Every run prints the seed it used; `PROPERTY_SEED=<n>` (and, for a failure,
 * `PROPERTY_PATH=<path>` as fast-check printed it) replays that run:
 *
 *   PROPERTY_SEED=2125351710 PROPERTY_PATH=19:11:9 npx jest tests/property/seat-machine.test.ts
 *
 * A seed that once failed becomes a fixed case in its test (`examples`), so it is checked on every run.
 */
export function propertyParams<T>(name: string, params: fc.Parameters<T>): fc.Parameters<T> {
  const fromEnv = process.env.PROPERTY_SEED;
  const seed = fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) : randomInt(-(2 ** 31), 2 ** 31 - 1);
  if (!Number.isInteger(seed)) throw new Error(`PROPERTY_SEED must be an integer, got ${fromEnv}`);
  const path = process.env.PROPERTY_PATH || undefined;
  process.stdout.write(`[property] ${name}: seed ${seed}${path ? ` path ${path}` : ''} (replay: PROPERTY_SEED=${seed} npx jest <this test file>)\n`);
  return { ...params, seed, ...(path ? { path } : {}) };
}
