// Bundles client-demo/src (TypeScript, plus socket.io-client, SeatMap and its codec under server/realtime;
// from server/contracts it takes types, which esbuild erases, and the dependency-free namespace.ts) into dist/client-demo with esbuild. Nothing is fetched at run time: the bundle is
// self-contained and served by server/http/client-demo.ts under /assets.
//
// It builds into a temporary folder and renames the files into place, so a test that rebuilds while a
// server is serving the old bundle (or two test workers that both rebuild) never serves a half-written file.
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'dist', 'client-demo');
mkdirSync(outDir, { recursive: true });
const tmp = mkdtempSync(join(root, 'dist', '.client-demo-'));
try {
  await build({
    entryPoints: [join(root, 'client-demo', 'src', 'main.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['es2020'],
    minify: process.env.NODE_ENV === 'production',
    sourcemap: true,
    outfile: join(tmp, 'main.js'),
    logLevel: 'warning',
    legalComments: 'none',
  });
  for (const f of readdirSync(tmp)) renameSync(join(tmp, f), join(outDir, f));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
