import { join } from 'node:path';
import type { CompactSeatsChanged, CompactSeatsSnapshot } from '../../packages/client/src';
import { bytes, SeatMap } from '../../packages/client/src';
import { describeEach, testDialects } from '../helpers/dialects';
import { createUsers, startTestEnv, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { connect, until, watch, type ClientSocket } from '../helpers/sockets';
import { clickSeat, ensureClientBuilt, launchBrowser, openApp, openContext, SCREENSHOTS, waitForSeat, type TestBrowser } from './browser';

const STANDS = 4;
const ROWS = 100;
const SEATS_PER_ROW = 250;
const SEATS = STANDS * ROWS * SEATS_PER_ROW;
const CLIENTS = 200;


/**
 * Issue 11, item 5: a 100,000-seat event (the largest venue allowed) works end to end: created through the admin
 * API, joined by 200 socket clients at once in the compact form, drawn by the browser demo, and a seat held by
 * a buyer in another browser shows on the first browser's map and reaches every client.
 *
 * On MariaDB the 200 joins share a few snapshot reads in flight. On the embedded SQLite default a read of
 * 100,000 seats blocks the event loop (~200 ms, the driver is synchronous), so joins arriving one after another
 * could not share one, and 200 of them queued for ~40 s until SeatsService reused an unchanged snapshot.
 */
describeEach(testDialects(), 'a 100,000-seat stadium end to end (%s)', (dialect) => {
  let env: TestEnv;
  let tb: TestBrowser;
  let url: string;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    ensureClientBuilt();
    env = await startTestEnv({ dialect, poolMax: 4 });
    url = env.nodes[0]!.url;
    tb = await launchBrowser();
  });

  afterAll(async () => {
    for (const s of sockets) s.close();
    await tb?.close();
    await env?.stop();
  });

  test('created over the admin API, joined by 200 clients, drawn in Chromium, and a hold in another browser shows', async () => {
    const t0 = Date.now();
    const [admin] = await createUsers(env, 1, 'admin');
    const [buyer] = await createUsers(env, 1);

    const venue = await http(url, 'POST', '/api/admin/venues', {
      token: admin!.token,
      body: {
        name: 'Stadium',
        sections: Array.from({ length: STANDS }, (_, i) => ({
          kind: 'rectangular',
          name: `Stand ${String.fromCharCode(65 + i)}`,
          rows: ROWS,
          seatsPerRow: SEATS_PER_ROW,
          category: ['front', ...Array.from({ length: 9 }, () => 'standard'), 'upper'],
          originX: (i % 2) * (SEATS_PER_ROW + 20),
          originY: Math.floor(i / 2) * (ROWS + 20),
        })),
      },
    });
    expect(venue.status).toBe(201);
    expect(venue.body.layout.seats).toHaveLength(SEATS);
    const event = await http(url, 'POST', '/api/admin/events', {
      token: admin!.token,
      body: {
        venueId: venue.body.id,
        name: 'Stadium night',
        startsAt: new Date(env.clock.now() + 30 * 24 * 3600 * 1000).toISOString(),
        status: 'on_sale',
        prices: [
          { category: 'front', priceCents: 12000 },
          { category: 'standard', priceCents: 6000 },
          { category: 'upper', priceCents: 3000 },
        ],
      },
    });
    expect(event.status).toBe(201);
    const eventId = event.body.id as number;
    expect(await env.db('event_seats').where({ event_id: eventId }).count({ n: '*' })).toEqual([{ n: SEATS }]);

    const createdMs = Date.now() - t0;
    // The layout once over HTTP; the state in its seat order, one byte per seat.
    const layout = await http(url, 'GET', `/api/events/${eventId}/layout`);
    expect(layout.status).toBe(200);
    expect(layout.body.seats).toHaveLength(SEATS);
    const order = (layout.body.seats as { id: number }[]).map((s) => s.id);

    const t1 = Date.now();
    // 200 clients join at once. Each checks its snapshot's shape; one decodes it into a full SeatMap.
    const changes = new Map<ClientSocket, number>();
    const snapshots = await Promise.all(
      Array.from({ length: CLIENTS }, () => {
        const socket = connect(url, eventId, { format: 'compact' });
        sockets.push(socket);
        changes.set(socket, 0);
        socket.on('seats:changed:compact', (b: CompactSeatsChanged) => changes.set(socket, changes.get(socket)! + b.count));
        return new Promise<CompactSeatsSnapshot>((resolve, reject) => {
          socket.once('seats:snapshot:compact', resolve);
          socket.once('connect_error', reject);
        });
      }),
    );
    const joinedMs = Date.now() - t1;
    for (const s of snapshots) {
      expect([s.count, bytes(s.status).length, s.layoutVersion]).toEqual([SEATS, SEATS, layout.body.layoutVersion]);
      expect(bytes(s.status).every((b) => b === 0)).toBe(true);
    }
    const map = new SeatMap();
    map.useLayout(layout.body.layoutVersion, order);
    const decoder = watch(url, eventId, { format: 'compact' }, map);
    sockets.push(decoder.socket);
    await decoder.ready;
    expect(map.seats.size).toBe(SEATS);

    // The browser draws it: one snapshot, every seat known, a few hundred DOM nodes.
    const viewer = await openContext(tb);
    const holder = await openContext(tb, { ...buyer!, name: 'Stadium buyer', role: 'user' });
    try {
      await openApp(viewer.page, `${url}/events/${eventId}`);
      await viewer.page.waitForFunction(() => (window as any).evently.stats().snapshots === 1);
      expect(await viewer.page.textContent('#availability')).toBe(`${SEATS} of ${SEATS} seats available`);
      expect(await viewer.page.evaluate(() => document.getElementsByTagName('*').length)).toBeLessThan(400);
      expect(await viewer.page.evaluate((ids) => ids.map((id) => (window as any).evently.seat(id)?.status), [order[0], order[SEATS - 1]])).toEqual(['available', 'available']);

      // Another browser holds a seat by clicking it; the first one shows it held, and every client hears of it.
      await openApp(holder.page, `${url}/events/${eventId}`);
      await clickSeat(holder.page, order[0]!);
      await until(async () => (await env.db('event_seats').where({ event_id: eventId, status: 'held' })).length === 1, 20_000, 'the hold is in the database');
      const held = Number((await env.db('event_seats').where({ event_id: eventId, status: 'held' }).first('seat_id')).seat_id);
      await waitForSeat(viewer.page, held, 'held', 20_000);
      expect(await viewer.page.textContent('#availability')).toBe(`${SEATS - 1} of ${SEATS} seats available`);
      await until(() => [...changes.values()].every((n) => n >= 1) && map.seats.get(held)?.status === 'held', 20_000, 'every client saw the hold');
      await viewer.page.screenshot({ path: join(SCREENSHOTS, 'stadium.png') });
      expect([...viewer.errors, ...holder.errors]).toEqual([]);
      // Figures for the record, not asserted (the clients share this process and a busy machine with the node).
      console.log(`100k-seat event: venue + event created over the admin API in ${createdMs} ms; ${CLIENTS} compact snapshots received in ${joinedMs} ms`);
    } finally {
      await viewer.context.close();
      await holder.context.close();
    }
  }, 240_000);
});
