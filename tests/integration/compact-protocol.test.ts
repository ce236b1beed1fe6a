import { request } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { EventLayout, SeatState } from '../../packages/client/src';
import { SeatMap } from '../../packages/client/src';
import { describeEach, testDialects } from '../helpers/dialects';
import { createUsers, seedEvent, startTestEnv, type SeededEvent, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { connect, connectError, send, until, watch, type Watcher } from '../helpers/sockets';

/** A GET that returns the raw bytes (fetch would decompress them for us and hide what the server sent). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

/** Issue 11: the layout over HTTP (cached, compressed) and the compact seat-state form next to the JSON one. */
describeEach(testDialects(), 'compact seat-state protocol (%s)', (dialect) => {
  let env: TestEnv;
  let ev: SeededEvent;
  let users: { id: number; token: string }[];
  const open: Watcher[] = [];
  const url = (i = 0) => env.nodes[i % env.nodes.length]!.url;

  beforeAll(async () => {
    // MariaDB runs two nodes over Redis, so batches and snapshots cross nodes; SQLite is the embedded single node.
    env = await startTestEnv(dialect === 'mysql' ? { dialect, nodes: 2, redis: true } : { dialect });
    users = await createUsers(env, 6);
    ev = await seedEvent(env, { rows: 6, seatsPerRow: 20, maxSeatsPerOrder: 6, maxSeatsPerUser: 40 });
  });
  afterEach(() => {
    for (const w of open.splice(0)) w.close();
  });
  afterAll(() => env.stop());

  const layoutOf = async (eventId: number): Promise<EventLayout> => (await http<EventLayout>(url(), 'GET', `/api/events/${eventId}/layout`)).body;

  it('When the layout is fetched, then it has a strong ETag, long caching, gzip and brotli, and a 304 for the ETag you hold', async () => {
    const plain = await rawGet(`${url()}/api/events/${ev.eventId}/layout`, {});
    expect(plain.status).toBe(200);
    const layout = JSON.parse(plain.body.toString()) as EventLayout;
    expect(layout.seats.map((s) => s.id)).toEqual(ev.seatIds);
    expect(plain.headers.etag).toBe(`"${layout.layoutVersion}"`);
    expect(plain.headers['cache-control']).toBe('public, max-age=86400');
    expect(plain.headers.vary).toMatch(/Accept-Encoding/);
    expect(plain.headers['content-encoding']).toBeUndefined();

    const br = await rawGet(`${url(1)}/api/events/${ev.eventId}/layout`, { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
    const gz = await rawGet(`${url()}/api/events/${ev.eventId}/layout`, { 'accept-encoding': 'gzip, br;q=0' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
    expect(gz.body.length).toBeLessThan(plain.body.length / 3);

    // Every node hashes the same content to the same version, so any node answers 304 for it.
    const again = await rawGet(`${url(1)}/api/events/${ev.eventId}/layout`, { 'if-none-match': `W/"x", "${layout.layoutVersion}"` });
    expect([again.status, again.body.length, again.headers.etag]).toEqual([304, 0, `"${layout.layoutVersion}"`]);
    const stale = await rawGet(`${url()}/api/events/${ev.eventId}/layout`, { 'if-none-match': '"not-it"' });
    expect(stale.status).toBe(200);
    const pinned = await rawGet(`${url()}/api/events/${ev.eventId}/layout?v=${layout.layoutVersion}`, {});
    expect(pinned.headers['cache-control']).toBe('public, max-age=31536000, immutable');

    // The event itself can then be fetched without the layout (and still with it by default).
    const lean = await http(url(), 'GET', `/api/events/${ev.eventId}?layout=false`);
    expect([lean.status, lean.body.venue.layout, lean.body.venue.seatCount]).toEqual([200, undefined, ev.seatIds.length]);
    expect((await http(url(), 'GET', `/api/events/${ev.eventId}`)).body.venue.layout.seats).toHaveLength(ev.seatIds.length);
  });

  it('When the layout request is bad or the event is a draft, then it is refused with the usual error body', async () => {
    expect((await http(url(), 'GET', '/api/events/abc/layout')).body.error.code).toBe('VALIDATION_FAILED');
    expect((await http(url(), 'GET', `/api/events/${ev.eventId}/layout?v=a/b`)).body.error.code).toBe('VALIDATION_FAILED');
    expect((await http(url(), 'GET', `/api/events/${ev.eventId}/layout?other=1`)).status).toBe(400);
    const draft = await seedEvent(env, { rows: 1, seatsPerRow: 2, status: 'draft' });
    const res = await http(url(), 'GET', `/api/events/${draft.eventId}/layout`);
    expect([res.status, res.body.error.code]).toEqual([404, 'EVENT_NOT_FOUND']);
  });

  it('When a client asks for an unknown format, then connect_error says why and nothing is sent', async () => {
    const socket = connect(url(), ev.eventId, { format: 'protobuf' } as never);
    const err = await connectError(socket);
    socket.close();
    expect(err.data.code).toBe('VALIDATION_FAILED');
    expect(err.message).toMatch(/format\?: 'json' \| 'compact'/);
    expect(err.data.details).toEqual([expect.objectContaining({ path: 'format' })]);
  });

  it('When box office asks for compact (at connect or by auth:refresh later), then it gets JSON batches with holders, once each', async () => {
    const [clerk] = await createUsers(env, 1, 'box_office');
    const atConnect = connect(url(), ev.eventId, { token: clerk!.token, format: 'compact' });
    const later = connect(url(), ev.eventId, { format: 'compact' });
    const names: Record<string, string[]> = { atConnect: [], later: [] };
    atConnect.onAny((n: string) => names.atConnect!.push(n));
    later.onAny((n: string) => names.later!.push(n));
    await until(() => names.atConnect!.includes('seats:snapshot') && names.later!.includes('seats:snapshot:compact'), 10_000, 'both snapshots');
    expect((await send(later, 'auth:refresh', { token: clerk!.token })).ok).toBe(true);
    names.atConnect!.length = 0;
    names.later!.length = 0;
    const held = await http(url(), 'POST', `/api/events/${ev.eventId}/holds`, { token: users[0]!.token, body: { seatIds: [ev.seatIds.at(-1)!] } });
    expect(held.status).toBe(201);
    await until(() => names.atConnect!.includes('seats:changed') && names.later!.includes('seats:changed'), 10_000, 'the staff batches');
    await new Promise((r) => setTimeout(r, 200)); // let any duplicate arrive before looking for one
    atConnect.close();
    later.close();
    expect(names).toEqual({ atConnect: ['seats:changed'], later: ['seats:changed'] });
    await http(url(), 'DELETE', `/api/holds/${held.body.holdToken}`, { token: users[0]!.token });
  });

  it('When changes storm in, then a JSON and a compact client both converge to the database, also after reconnecting with a cursor', async () => {
    const layout = await layoutOf(ev.eventId);
    const compactMap = new SeatMap();
    compactMap.useLayout(layout.layoutVersion, layout.seats.map((s) => s.id));
    let compact = watch(url(1), ev.eventId, { format: 'compact' }, compactMap);
    let json = watch(url(), ev.eventId, {});
    open.push(compact, json);
    await Promise.all([compact.ready, json.ready]);
    expect(compactMap.seats.size).toBe(ev.seatIds.length);

    const storm = async (round: number) => {
      await Promise.all(
        users.map(async (u, k) => {
          const start = (round * 7 + k * 17) % (ev.seatIds.length - 4);
          const seatIds = ev.seatIds.slice(start, start + 3);
          const held = await http(url(k), 'POST', `/api/events/${ev.eventId}/holds`, { token: u.token, body: { seatIds } });
          if (held.status !== 201) return; // someone else got there first: that is part of the storm
          if ((round + k) % 3 === 0) await http(url(k + 1), 'DELETE', `/api/holds/${held.body.holdToken}`, { token: u.token });
          else if ((round + k) % 3 === 1) {
            const booked = await http(url(k), 'POST', '/api/bookings', { token: u.token, body: { holdToken: held.body.holdToken }, headers: { 'Idempotency-Key': `storm-${round}-${k}` } });
            expect(booked.status).toBe(201);
          }
          // The third kind stays held, so expiries travel too.
        }),
      );
    };
    for (let round = 0; round < 4; round++) await storm(round);

    // Both drop; changes go on; both come back with their cursor and catch up.
    compact.close();
    json.close();
    const compactCursor = compactMap.cursor;
    const jsonMap = json.map;
    for (let round = 4; round < 7; round++) await storm(round);
    const got: string[] = [];
    compact = watch(url(), ev.eventId, { format: 'compact', cursor: compactCursor }, compactMap);
    compact.socket.onAny((name: string) => got.push(name));
    json = watch(url(1), ev.eventId, { cursor: jsonMap.cursor }, jsonMap);
    const gotJson: string[] = [];
    json.socket.onAny((name: string) => gotJson.push(name));
    open.push(compact, json);
    await Promise.all([compact.ready, json.ready]);
    expect(got[0]).toBe('seats:changed:compact');
    for (let round = 7; round < 9; round++) await storm(round);

    const truth = async (): Promise<SeatState[]> => {
      const rows = (await env.db('event_seats').where({ event_id: ev.eventId }).orderBy('seat_id').select('seat_id', 'status', 'version', 'hold_expires_at')) as {
        seat_id: number;
        status: SeatState['status'];
        version: number;
        hold_expires_at: number | null;
      }[];
      return rows.map((r) => ({ id: r.seat_id, status: r.status, version: r.version, ...(r.status === 'held' && r.hold_expires_at ? { expiresAt: new Date(Number(r.hold_expires_at)).toISOString() } : {}) }));
    };
    const view = (map: SeatMap) => [...map.seats.values()].sort((a, b) => a.id - b.id);
    const expected = await truth();
    expect(expected.some((s) => s.status === 'held') && expected.some((s) => s.status === 'booked')).toBe(true);
    await until(async () => JSON.stringify(view(compactMap)) === JSON.stringify(expected) && JSON.stringify(view(jsonMap)) === JSON.stringify(expected), 15000, 'both maps match the database');
    expect(view(compactMap)).toEqual(view(jsonMap));
    // Each socket got its own form only (one emit per form per batch, not both to everybody).
    expect(got.filter((n) => n.startsWith('seats:') && !n.endsWith(':compact'))).toEqual([]);
    expect(gotJson.filter((n) => n.endsWith(':compact'))).toEqual([]);
    expect(gotJson).toContain('seats:changed');
  });
});
