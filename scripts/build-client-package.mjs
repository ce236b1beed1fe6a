// Builds the installable client package (packages/client, `@evently/client`) into packages/client/dist:
//   index.mjs / index.cjs  one ES module and one CommonJS bundle (esbuild) of packages/client/src with the
//                          server code it uses (SeatMap, the compact codec, the namespace helper) inlined;
//                          socket.io-client stays an import, resolved from the consumer's node_modules
//   types/                 declarations (tsc) of the package and of the server contracts it re-exports
// The bundles must import nothing but socket.io-client: zod is for the declarations only (the contracts' types
// are z.infer of their schemas), so a value import of the contracts' schemas fails this build.
// Then `cd packages/client && npm pack` makes the tarball.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'packages', 'client');
const dist = join(pkg, 'dist');
const RUNTIME_DEPENDENCIES = new Set(['socket.io-client']);

rmSync(dist, { recursive: true, force: true });
for (const [format, file] of [['esm', 'index.mjs'], ['cjs', 'index.cjs']]) {
  const result = await build({
    entryPoints: [join(pkg, 'src', 'index.ts')],
    bundle: true,
    format,
    platform: 'neutral',
    target: ['es2020'],
    external: ['socket.io-client', 'zod'],
    outfile: join(dist, file),
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
  });
  const imported = new Set(Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path)));
  const stray = [...imported].filter((p) => !RUNTIME_DEPENDENCIES.has(p));
  if (stray.length) throw new Error(`${file} imports ${stray.join(', ')} at run time; only ${[...RUNTIME_DEPENDENCIES].join(', ')} is a dependency`);
}

const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(pkg, 'tsconfig.json')], { stdio: 'inherit' });
const types = join(dist, 'types', 'packages', 'client', 'src', 'index.d.ts');
if (!existsSync(types)) throw new Error(`declarations missing: ${types}`);
console.log(`built ${dist}`);
