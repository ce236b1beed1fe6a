import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';
import { launchBrowser, openContext, type TestBrowser } from './browser';

/**
 * A seat picker served from another origin, in a real browser: with its origin in CORS_ORIGINS it fetches the
 * layout and places a hold (a preflighted request: JSON body and bearer token) straight from the page; a page
 * from an origin not in the list is refused by the browser.
 */
describe('REST from another origin in the browser (CORS_ORIGINS)', () => {
  let site: Server;
  let port: number;
  let env: TestEnv;
  let tb: TestBrowser;

  beforeAll(async () => {
    // The other origin: a page of its own, served by a separate HTTP server.
    site = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>tickets</title>'));
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', () => r()));
    port = (site.address() as AddressInfo).port;
    env = await startTestEnv({ dialect: 'sqlite', env: { CORS_ORIGINS: `http://127.0.0.1:${port}` } });
    tb = await launchBrowser();
  });

  afterAll(async () => {
    await tb?.close();
    await env?.stop();
    await new Promise<void>((r) => site?.close(() => r()));
  });

  /** Fetches the layout and posts a hold from a page at `origin`; what the page could see of each. */
  const fromPage = async (origin: string, eventId: number, seatId: number, token: string) => {
    const { context, page } = await openContext(tb);
    try {
      await page.goto(`${origin}/`);
      return await page.evaluate(
        async ({ api, eventId, seatId, token }) => {
          const attempt = async (f: () => Promise<Response>) => {
            try {
              const r = await f();
              return { status: r.status, etag: r.headers.get('etag'), body: await r.json() };
            } catch (e) {
              return { failed: String(e) };
            }
          };
          const layout = await attempt(() => fetch(`${api}/api/events/${eventId}/layout`));
          const hold = await attempt(() =>
            fetch(`${api}/api/events/${eventId}/holds`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ seatIds: [seatId] }) }),
          );
          return { layout, hold };
        },
        { api: env.nodes[0]!.url, eventId, seatId, token },
      );
    } finally {
      await context.close();
    }
  };

  test('a listed origin reads the layout (and its ETag) and holds a seat; an unlisted one is refused by the browser', async () => {
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 4 });
    const [buyer] = await createUsers(env, 1);

    const listed = (await fromPage(`http://127.0.0.1:${port}`, ev.eventId, ev.seatIds[0]!, buyer!.token)) as any;
    expect(listed.layout.status).toBe(200);
    expect(listed.layout.etag).toBeTruthy();
    expect(listed.layout.body.seats).toHaveLength(4);
    expect(listed.hold.status).toBe(201);
    expect(listed.hold.body.seats.map((s: { id: number }) => s.id)).toEqual([ev.seatIds[0]]);

    // Same server, same port, but "localhost" is another origin, not in the list: the preflight gets no CORS
    // headers, so the browser never sends the hold.
    const unlisted = (await fromPage(`http://localhost:${port}`, ev.eventId, ev.seatIds[1]!, buyer!.token)) as any;
    expect(unlisted.layout.failed).toMatch(/TypeError/);
    expect(unlisted.hold.failed).toMatch(/TypeError/);
    const held = await env.db('event_seats').where({ event_id: ev.eventId, status: 'held' }).pluck('seat_id');
    expect(held.map(Number)).toEqual([ev.seatIds[0]]);
  });
});
