import express, { type Express } from 'express';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Project root, whether running from TypeScript sources or from dist/. */
export const PROJECT_ROOT = [join(__dirname, '..', '..'), join(__dirname, '..', '..', '..')].find((p) => existsSync(join(p, 'package.json')))!;

/**
 * Serves the browser demo: static files from client-demo/public and the bundle built by `npm run build`
 * (dist/client-demo). `/events/<id>` and `/box-office/<id>` are pages of the same app.
 */
export function mountClientDemo(app: Express): void {
  const publicDir = join(PROJECT_ROOT, 'client-demo', 'public');
  const bundleDir = join(PROJECT_ROOT, 'dist', 'client-demo');
  app.use('/assets', express.static(bundleDir, { fallthrough: true, maxAge: '1h' }));
  app.use(express.static(publicDir, { index: 'index.html' }));
  const page = (_req: express.Request, res: express.Response) => res.sendFile(join(publicDir, 'index.html'));
  app.get(/^\/(events|box-office)\/\d+\/?$/, page);
}
