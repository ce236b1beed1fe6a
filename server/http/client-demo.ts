import express, { type Express } from 'express';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Project root, whether running from TypeScript sources or from dist/. */
export const PROJECT_ROOT = [join(__dirname, '..', '..'), join(__dirname, '..', '..', '..')].find((p) => existsSync(join(p, 'package.json')))!;

/**
 * Serves the browser demo: static files from client-demo/public and the bundle built by `npm run build`
 * (dist/client-demo, under /assets). `/`, `/events/<id>` and `/box-office/<id>` are pages of the same
 * app: the same HTML loads the bundle, which reads the path. Everything is same-origin (helmet's CSP
 * allows 'self' only), so nothing comes from the internet at run time.
 */
export function mountClientDemo(app: Express): void {
  const publicDir = join(PROJECT_ROOT, 'client-demo', 'public');
  const bundleDir = join(PROJECT_ROOT, 'dist', 'client-demo');
  const page = (_req: express.Request, res: express.Response) => {
    // The HTML is tiny and names an unversioned bundle: always revalidate so a rebuild shows at once.
    res.set('cache-control', 'no-cache');
    res.sendFile(join(publicDir, 'index.html'));
  };
  app.get(['/', '/index.html'], page);
  app.get(/^\/(events|box-office)\/[1-9]\d{0,9}\/?$/, page);
  app.use('/assets', express.static(bundleDir, { fallthrough: true, maxAge: 0, etag: true }));
  app.use(express.static(publicDir, { index: false, maxAge: 0 }));
}
