import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A file the site serves itself instead of passing the request on. */
export interface SiteFile {
  type: string;
  body: string | Buffer;
}

export interface SiteProxy {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  close(): Promise<void>;
}

/**
 * A same-origin site in front of an Evently node, as a reverse proxy would be: paths `files` answers are served
 * from here (a page, static modules), every other request and WebSocket upgrade goes to `target` unchanged (the
 * Host header too, so the node's same-origin check sees the site's origin). For browser tests of pages that are
 * not the server's own.
 */
export async function startSiteProxy(target: string, files: (path: string) => SiteFile | undefined): Promise<SiteProxy> {
  const to = new URL(target);
  const server = createServer((req, res) => {
    const file = files(new URL(req.url ?? '/', 'http://site').pathname);
    if (file) {
      res.writeHead(200, { 'content-type': file.type });
      res.end(file.body);
      return;
    }
    // No agent: a pooled keep-alive connection would outlive the test's close().
    const upstream = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers, agent: false }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  // Upgraded connections leave the HTTP server's books: close() must end them itself.
  const tunnels = new Set<{ destroy(): void }>();
  server.on('upgrade', (req, socket, head) => {
    const upstream = connect(Number(to.port), to.hostname, () => {
      upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n${headerLines(req.headers)}\r\n`);
      upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
    tunnels.add(socket).add(upstream);
    socket.on('close', () => tunnels.delete(socket));
    upstream.on('close', () => tunnels.delete(upstream));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of tunnels) t.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function headerLines(headers: IncomingHttpHeaders): string {
  return Object.entries(headers)
    .flatMap(([name, value]) => (Array.isArray(value) ? value.map((v) => `${name}: ${v}\r\n`) : value === undefined ? [] : [`${name}: ${value}\r\n`]))
    .join('');
}
