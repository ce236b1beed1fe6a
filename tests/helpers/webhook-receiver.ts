import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One POST a receiver got: its headers (lower-case names) and raw body. */
export interface ReceivedWebhook {
  headers: Record<string, string>;
  body: string;
  json: { id: string; type: string; createdAt: string; data: Record<string, unknown> };
}

/** How the receiver answers: 204, an error status, or never (the request hangs until `release()`/close). */
export type ReceiverMode = { kind: 'ok' } | { kind: 'status'; status: number } | { kind: 'hang' };

/**
 * A real HTTP webhook receiver on 127.0.0.1 (node:http), for the webhook tests. It records every POST, answers
 * as its mode says, and can go down (`down()`: the port refuses connections) and come back on the same port.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  mode: ReceiverMode = { kind: 'ok' };
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly hanging: ServerResponse[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  /** Listens (on a free port the first time, on the same port after `down()`). */
  async up(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** Stops listening and drops every open connection (hanging requests included). */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.hanging.length = 0;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Resolves once `n` POSTs in all have arrived. */
  waitFor(n: number): Promise<void> {
    if (this.received.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  /** POSTs received for one event id. */
  of(eventId: string): ReceivedWebhook[] {
    return this.received.filter((r) => r.json.id === eventId);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    this.received.push({ headers, body, json: JSON.parse(body) });
    this.waiters = this.waiters.filter((w) => (this.received.length >= w.n ? (w.resolve(), false) : true));
    const mode = this.mode;
    if (mode.kind === 'hang') {
      this.hanging.push(res);
      return;
    }
    res.statusCode = mode.kind === 'ok' ? 204 : mode.status;
    res.end(mode.kind === 'ok' ? undefined : 'receiver says no');
  }
}
