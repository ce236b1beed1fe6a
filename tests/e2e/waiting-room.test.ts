import { join } from 'node:path';
import { seededRandom } from '../../server/queue/random';
import { createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { clickSeat, ensureClientBuilt, launchBrowser, openContext, SCREENSHOTS, waitForSeat, type PageUser, type TestBrowser } from './browser';

/**
 * The waiting room in real Chromium against a real node (SQLite, in-memory line): two buyers wait in the lobby for
 * one slot, the sale starts, one is let into the seat map and books, and the other is let in live, without a
 * reload. Time moves with the test clock and `tickAll()`, not with sleeps.
 */
describe('waiting room in the browser', () => {
  let env: TestEnv;
  let tb: TestBrowser;
  let baseUrl: string;
  let users: PageUser[];

  beforeAll(async () => {
    ensureClientBuilt();
    env = await startTestEnv({ dialect: 'sqlite', queueRandom: seededRandom(3) });
    baseUrl = env.nodes[0]!.url;
    users = (await createUsers(env, 3)).map((u, i) => ({ ...u, name: `buyer ${i}`, role: 'user' as const }));
    tb = await launchBrowser();
  });

  afterAll(async () => {
    await tb?.close();
    await env?.stop();
  });

  test('When two buyers wait for one slot, then each sees the queue page, then the seat map when admitted', async () => {
    const ev = await seedEvent(env, { rows: 2, seatsPerRow: 6 });
    const [admin] = await createUsers(env, 1, 'admin');
    const at = (ms: number) => new Date(env.clock.now() + ms).toISOString();
    const config = await http(baseUrl, 'PUT', `/api/admin/events/${ev.eventId}/queue`, {
      token: admin!.token,
      body: { enabled: true, opensAt: at(-60_000), saleStartsAt: at(60_000), maxActive: 1, windowSeconds: 600 },
    });
    expect(config.status).toBe(200);
    const alice = await openContext(tb, users[0]);
    const bob = await openContext(tb, users[1]);
    try {
      for (const p of [alice.page, bob.page]) {
        await p.goto(`${baseUrl}/events/${ev.eventId}`);
        await p.waitForSelector('body[data-queue-state="lobby"]');
        expect(await p.textContent('#queue-state')).toMatch(/random place/i);
      }
      await alice.page.screenshot({ path: join(SCREENSHOTS, 'waiting-room-lobby.png') });

      // The sale starts: the lobby is drawn and one of the two is let in.
      env.clock.advance(120_000);
      await env.nodes[0]!.services.queue.tickAll();
      const states = await Promise.all(users.slice(0, 2).map((u) => http(baseUrl, 'GET', `/api/events/${ev.eventId}/queue`, { token: u.token })));
      const firstIndex = states.findIndex((s) => s.body.state === 'admitted');
      expect(firstIndex).toBeGreaterThanOrEqual(0);
      const [first, second] = firstIndex === 0 ? [alice, bob] : [bob, alice];

      // The admitted page turns into the seat map with the time left; the other shows place 1.
      await first.page.waitForFunction(() => (window as any).evently?.connected() === true);
      expect(await first.page.textContent('#admission-banner')).toMatch(/your turn/i);
      await second.page.waitForSelector('body[data-queue-state="waiting"]');
      await second.page.waitForFunction(() => document.querySelector('#queue-position')?.textContent === '1');
      expect(await second.page.textContent('#queue-wait')).toMatch(/min/);
      await second.page.screenshot({ path: join(SCREENSHOTS, 'waiting-room-position.png') });

      // The admitted buyer holds and books through the page; that hands the slot on.
      const seat = ev.seatIds[0]!;
      await clickSeat(first.page, seat);
      await waitForSeat(first.page, seat, 'held');
      await first.page.click('#book');
      await first.page.waitForSelector('#booking-ref');

      // The second buyer's page is let in live (queue:admitted), and can hold.
      await second.page.waitForFunction(() => (window as any).evently?.connected() === true, undefined, { timeout: 10_000 });
      const other = ev.seatIds[1]!;
      await clickSeat(second.page, other);
      await waitForSeat(second.page, other, 'held');
      await second.page.screenshot({ path: join(SCREENSHOTS, 'waiting-room-admitted.png') });
      expect(alice.errors).toEqual([]);
      expect(bob.errors).toEqual([]);
    } finally {
      await alice.context.close();
      await bob.context.close();
    }
  });

  test('When a buyer without admission tries to hold (a stale tab), then the page says to join the queue', async () => {
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 4 });
    const [admin] = await createUsers(env, 1, 'admin');
    const { context, page } = await openContext(tb, users[2]);
    try {
      // The tab opened before the organiser switched the waiting room on.
      await page.goto(`${baseUrl}/events/${ev.eventId}`);
      await page.waitForFunction(() => (window as any).evently?.connected() === true);
      const at = (ms: number) => new Date(env.clock.now() + ms).toISOString();
      await http(baseUrl, 'PUT', `/api/admin/events/${ev.eventId}/queue`, { token: admin!.token, body: { enabled: true, opensAt: at(0), saleStartsAt: at(0), admitPerMinute: 10 } });
      await clickSeat(page, ev.seatIds[0]!);
      await page.waitForSelector('#message[data-code="NOT_ADMITTED"]');
      expect(await page.textContent('#message')).toMatch(/waiting room/i);
    } finally {
      await context.close();
    }
  });
});
