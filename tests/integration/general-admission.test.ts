import { randomUUID } from 'node:crypto';
import { mysqlDialects, testDialects, describeEach } from '../helpers/dialects';
import { createUsers, startTestEnv, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { send, until, watch } from '../helpers/sockets';
import { seedGaEvent } from '../helpers/ga';
import type { GaChanged } from '../../packages/client/src';

describeEach(testDialects(), 'general admission on %s', (dialect) => {
  let env: TestEnv;
  let url: string;
  let ev: { eventId: number; sectionId: number };
  let alice: { id: number; token: string };

  beforeAll(async () => {
    env = await startTestEnv({ dialect });
    url = env.nodes[0]!.url;
    ev = await seedGaEvent(env, { capacity: 5 });
    [alice] = await createUsers(env, 1);
  });
  afterAll(() => env.stop());

  const area = () => env.db('event_ga_areas').where({ event_id: ev.eventId, section_id: ev.sectionId }).first();
  const holdGa = (body: unknown, token = alice.token, eventId = ev.eventId) => http(url, 'POST', `/api/events/${eventId}/ga/holds`, { token, body });
  const dbState = async () => ({
    area: await area(),
    holds: await env.db('holds').count({ n: '*' }),
    lines: await env.db('hold_ga_lines').count({ n: '*' }),
  });

  it('creates a counter per GA area when the event is created', async () => {
    expect(await area()).toMatchObject({ capacity: 5, held: 0, booked: 0, version: 1, price_cents: 1500 });
    const res = await http(url, 'GET', `/api/events/${ev.eventId}/ga`);
    expect(res.status).toBe(200);
    expect(res.body.areas).toEqual([{ sectionId: ev.sectionId, name: 'Standing', category: 'standing', capacity: 5, available: 5, priceCents: 1500, version: 1 }]);
  });

  it('holds and books N tickets, broadcasting availability', async () => {
    const w = watch(url, ev.eventId);
    const batches: GaChanged[] = [];
    w.socket.on('ga:changed', (b) => batches.push(b));
    await w.ready;
    try {
      const held = await holdGa({ sectionId: ev.sectionId, quantity: 2 });
      expect(held.status).toBe(201);
      expect(held.body.ga).toEqual([{ sectionId: ev.sectionId, section: 'Standing', quantity: 2, priceCents: 1500 }]);
      expect(held.body.seats).toEqual([]);
      expect(await area()).toMatchObject({ held: 2, booked: 0, version: 2 });
      await until(() => batches.some((b) => b.areas[0]!.available === 3), 5000, 'ga:changed after hold');

      const booked = await http(url, 'POST', '/api/bookings', { token: alice.token, body: { holdToken: held.body.holdToken }, headers: { 'Idempotency-Key': randomUUID() } });
      expect(booked.status).toBe(201);
      expect(booked.body.totalCents).toBe(3000);
      expect(booked.body.ga).toEqual([{ sectionId: ev.sectionId, section: 'Standing', quantity: 2, priceCents: 1500 }]);
      expect(await area()).toMatchObject({ held: 0, booked: 2, version: 3 });
      await until(() => batches.some((b) => b.areas[0]!.version === 3), 5000, 'ga:changed after booking');

      // Cancelling the booking gives the tickets back.
      const cancelled = await http(url, 'DELETE', `/api/bookings/${booked.body.id}`, { token: alice.token });
      expect(cancelled.status).toBe(200);
      expect(await area()).toMatchObject({ held: 0, booked: 0 });
    } finally {
      w.close();
    }
  });

  it('refuses more tickets than are left with GA_SOLD_OUT and changes nothing', async () => {
    const first = await holdGa({ sectionId: ev.sectionId, quantity: 4 });
    expect(first.status).toBe(201);
    const before = await dbState();
    const res = await holdGa({ sectionId: ev.sectionId, quantity: 2 });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'GA_SOLD_OUT', details: { available: 1 } });
    expect(await dbState()).toEqual(before);
    // Releasing the hold gives its tickets back.
    const released = await http(url, 'DELETE', `/api/holds/${first.body.holdToken}`, { token: alice.token });
    expect(released.status).toBe(200);
    expect((await area()).held).toBe(0);
  });

  it('gives expired holds back when the sweeper runs', async () => {
    const held = await holdGa({ sectionId: ev.sectionId, quantity: 3 });
    expect(held.status).toBe(201);
    expect((await area()).held).toBe(3);
    env.clock.advance(601_000);
    await env.nodes[0]!.sweep();
    expect((await area()).held).toBe(0);
    expect((await env.db('holds').where({ token: held.body.holdToken }).first()).status).toBe('expired');
  });

  it('holds over the socket with ga:hold', async () => {
    const w = watch(url, ev.eventId, { token: alice.token });
    await w.ready;
    try {
      const ack = await send(w.socket, 'ga:hold', { sectionId: ev.sectionId, quantity: 2 });
      expect(ack).toMatchObject({ ok: true, data: { ga: [{ sectionId: ev.sectionId, quantity: 2 }] } });
      expect((await area()).held).toBe(2);
      const bad = await send(w.socket, 'ga:hold', { sectionId: ev.sectionId, quantity: -1 });
      expect(bad).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
      if (ack.ok) expect((await http(url, 'DELETE', `/api/holds/${ack.data.holdToken}`, { token: alice.token })).status).toBe(200);
      expect((await area()).held).toBe(0);
    } finally {
      w.close();
    }
  });

  it('rejects bad input with a clear error and changes nothing', async () => {
    const before = await dbState();
    const cases: [unknown, number, string][] = [
      [{ sectionId: ev.sectionId, quantity: 0 }, 400, 'VALIDATION_FAILED'],
      [{ sectionId: ev.sectionId, quantity: 2, extra: true }, 400, 'VALIDATION_FAILED'],
      [{ sectionId: ev.sectionId, quantity: '2' }, 400, 'VALIDATION_FAILED'],
      [{ sectionId: 999999, quantity: 1 }, 404, 'GA_AREA_NOT_FOUND'],
      [{ sectionId: ev.sectionId, quantity: 11 }, 422, 'TOO_MANY_SEATS'],
    ];
    for (const [body, status, code] of cases) {
      const res = await holdGa(body);
      expect([res.status, res.body.error?.code]).toEqual([status, code]);
    }
    const anon = await http(url, 'POST', `/api/events/${ev.eventId}/ga/holds`, { body: { sectionId: ev.sectionId, quantity: 1 } });
    expect(anon.status).toBe(401);
    expect(await dbState()).toEqual(before);
  });
});

describeEach(mysqlDialects(), 'general admission under concurrency on %s', (dialect) => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ dialect, nodes: 2, poolMax: 6 });
  });
  afterAll(() => env.stop());

  it('never oversells an area, however many hold at once across two nodes', async () => {
    const capacity = 25;
    const ev = await seedGaEvent(env, { capacity });
    const users = await createUsers(env, 40);
    // 40 buyers ask for 1-3 tickets each (80 wanted, 25 exist), spread over both nodes, all at once.
    const results = await Promise.all(
      users.map((u, i) =>
        http(env.nodes[i % 2]!.url, 'POST', `/api/events/${ev.eventId}/ga/holds`, { token: u.token, body: { sectionId: ev.sectionId, quantity: (i % 3) + 1 } }),
      ),
    );
    const ok = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status !== 201);
    for (const r of refused) expect([r.status, r.body.error.code]).toEqual([409, 'GA_SOLD_OUT']);
    const granted = ok.reduce((n, r) => n + r.body.ga[0].quantity, 0);
    expect(granted).toBeLessThanOrEqual(capacity);
    // Whoever was refused saw fewer left than they asked for: the area ends (nearly) full, never over.
    expect(granted).toBeGreaterThan(capacity - 3);
    const area = await env.db('event_ga_areas').where({ event_id: ev.eventId, section_id: ev.sectionId }).first();
    expect(area.held).toBe(granted);
    const [{ n }] = await env.db('hold_ga_lines').where({ event_id: ev.eventId }).sum({ n: 'quantity' });
    expect(Number(n)).toBe(granted);
    expect(area.version).toBe(1 + ok.length);
  });
});
