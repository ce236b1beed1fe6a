import { join } from 'node:path';
import { createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';
import { clickSeat, countIs, ensureClientBuilt, launchBrowser, openApp, openContext, SCREENSHOTS, seatOnPage, waitForSeat, type PageUser, type TestBrowser } from './browser';

/**
 * The box-office terminal in real Chromium next to a buyer's seat picker: holders shown to staff, a
 * walk-in held and booked, a buyer's hold force-released, seats blocked and unblocked, live counts and feed.
 */
describe('box-office terminal in the browser', () => {
  let env: TestEnv;
  let tb: TestBrowser;
  let baseUrl: string;
  let clerk: PageUser;
  let buyer: PageUser;

  beforeAll(async () => {
    ensureClientBuilt();
    env = await startTestEnv({ dialect: 'sqlite' });
    baseUrl = env.nodes[0]!.url;
    const [c] = await createUsers(env, 1, 'box_office');
    const [b] = await createUsers(env, 1, 'user');
    clerk = { ...c!, name: 'box_office 0', role: 'box_office' };
    buyer = { ...b!, name: 'user 0', role: 'user' };
    tb = await launchBrowser();
  });

  afterAll(async () => {
    await tb?.close();
    await env?.stop();
  });

  const count = async (page: import('playwright-core').Page, status: string) => Number(await page.textContent(`#count-${status}`));

  test('staff see who holds what, hold and book for a walk-in, force-release, block and unblock, live', async () => {
    const ev = await seedEvent(env, { rows: 3, seatsPerRow: 8 });
    const office = await openContext(tb, clerk);
    const shopper = await openContext(tb, buyer);
    try {
      await openApp(office.page, `${baseUrl}/box-office/${ev.eventId}`);
      await openApp(shopper.page, `${baseUrl}/events/${ev.eventId}`);
      expect(await count(office.page, 'available')).toBe(24);

      // A buyer holds a seat: the terminal shows it held, by whom, within a second.
      const [s0, s1, s2, s3, s4] = ev.seatIds as [number, number, number, number, number];
      await clickSeat(shopper.page, s0);
      await waitForSeat(shopper.page, s0, 'held');
      await office.page.waitForFunction((id) => (window as any).evently.seat(id)?.holder?.name === 'user 0', s0, { timeout: 5000 });
      await office.page.waitForFunction(() => document.querySelector('#count-held')?.textContent === '1');
      // The buyer's page never learns anyone's identity.
      expect(await seatOnPage(shopper.page, s0)).not.toHaveProperty('holder');

      // Hold two seats for a walk-in, then book them.
      await clickSeat(office.page, s2);
      await clickSeat(office.page, s3);
      await countIs(office.page, '#selected-list li', 2);
      await office.page.fill('#walkin-name', 'Walter Walkin');
      await office.page.fill('#walkin-email', 'walter@example.com');
      await office.page.click('#walkin-hold');
      await waitForSeat(shopper.page, s2, 'held');
      await waitForSeat(shopper.page, s3, 'held');
      expect((await seatOnPage(office.page, s2))!.holder).toMatchObject({ name: 'Walter Walkin', email: 'walter@example.com' });
      await countIs(office.page, '#walkin-list li', 1);
      await office.page.click('#walkin-list .walkin-book');
      await waitForSeat(shopper.page, s2, 'booked');
      await waitForSeat(office.page, s3, 'booked');
      await office.page.waitForSelector('#message[data-kind="ok"]');
      expect(await office.page.textContent('#message')).toMatch(/Booked for Walter Walkin: reference EV-/);
      const booking = await env.db('bookings').where({ event_id: ev.eventId, status: 'confirmed' }).first();
      expect(booking.customer_name).toBe('Walter Walkin');
      await office.page.waitForFunction(() => document.querySelector('#count-booked')?.textContent === '2');

      // Force-release the buyer's hold from the terminal: the buyer sees the seat free and the hold gone.
      await clickSeat(office.page, s0);
      await office.page.click('#force-release');
      await waitForSeat(shopper.page, s0, 'available', 2000);
      await countIs(shopper.page, '#hold-list li', 0);
      expect((await env.db('event_seats').where({ event_id: ev.eventId, seat_id: s0 }).first()).status).toBe('available');

      // Block two seats (house seats): the buyer sees them not for sale; clicking one holds nothing.
      await clickSeat(office.page, s1);
      await clickSeat(office.page, s4);
      await office.page.click('#block');
      await waitForSeat(shopper.page, s1, 'blocked');
      await waitForSeat(shopper.page, s4, 'blocked');
      await office.page.waitForFunction(() => document.querySelector('#count-blocked')?.textContent === '2');
      await clickSeat(shopper.page, s1);
      await shopper.page.waitForSelector('#message:not(:empty)');
      expect(await shopper.page.textContent('#message')).toMatch(/not for sale/i);
      await office.page.screenshot({ path: join(SCREENSHOTS, 'box-office.png') });

      // Unblock one.
      await clickSeat(office.page, s4);
      await office.page.click('#unblock');
      await waitForSeat(shopper.page, s4, 'available');
      expect(await count(office.page, 'blocked')).toBe(1);
      expect(await count(office.page, 'available')).toBe(24 - 2 - 1);

      // The feed lists recent changes, newest first.
      const feed = await office.page.locator('#feed li').allTextContents();
      expect(feed.length).toBeGreaterThanOrEqual(8);
      expect(feed[0]).toContain('available');
      expect(office.errors).toEqual([]);
      expect(shopper.errors).toEqual([]);
    } finally {
      await office.context.close();
      await shopper.context.close();
    }
  });

  test('the terminal refuses buyers', async () => {
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 4 });
    const { context, page } = await openContext(tb, buyer);
    try {
      await page.goto(`${baseUrl}/box-office/${ev.eventId}`);
      await page.waitForSelector('body[data-ready="true"]');
      expect(await page.textContent('#message')).toMatch(/needs a box office or admin account/);
      expect(await page.locator('.seat-overlay').count()).toBe(0);
    } finally {
      await context.close();
    }
  });
});
