// Bundles client-demo/src into dist/client-demo with esbuild (placeholder until the demo lands).
import { existsSync, mkdirSync } from 'node:fs';
mkdirSync('dist/client-demo', { recursive: true });
if (!existsSync('client-demo/src')) process.exit(0);
