import { mysqlDialects, describeEach } from '../helpers/dialects';
import { createUsers, seedEvent, startTestEnv, type SeededEvent, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { send, watch, type Watcher } from '../helpers/sockets';

/** Load shedding: with the pool's queue (or an event's queue of new holds) full, new writes are answered BUSY at once and change nothing. */
describeEach(mysqlDialects(), 'backpressure on %s', (dialect) => {
  let env: TestEnv;
  let ev: SeededEvent;
  const open: Watcher[] = [];

  beforeAll(async () => {
    // No background pollers (hold sweeper, waitlist and waiting-room tickers): with one connection and a queue of
    // two, a poll that happens to wait for the connection next to a request would make that request BUSY, and
    // which requests are BUSY is what these tests count.
    env = await startTestEnv({ dialect, poolMax: 1, sweeper: false, env: { DB_QUEUE_MAX: '2', HOLD_QUEUE_MAX: '2' } });
    ev = await seedEvent(env, { rows: 2, seatsPerRow: 40, maxSeatsPerUser: 1, maxSeatsPerOrder: 1 });
  });
  afterAll(async () => {
    open.forEach((w) => w.close());
    await env.stop();
  });

  it('answers BUSY with Retry-After instead of queueing without bound, and busy requests change nothing', async () => {
    const users = await createUsers(env, 60);
    const url = env.nodes[0]!.url;
    const replies = await Promise.all(
      users.map((u, i) => http(url, 'POST', `/api/events/${ev.eventId}/holds`, { token: u.token, body: { seatIds: [ev.seatIds[i]] } })),
    );
    const statuses = replies.map((r) => r.status);
    expect(statuses.every((s) => s === 201 || s === 503)).toBe(true);
    const busy = replies.filter((r) => r.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThan(0);
    for (const r of busy) {
      expect(r.body.error.code).toBe('BUSY');
      expect(r.headers.get('retry-after')).toBe('1');
    }
    // Exactly the acknowledged holds exist.
    const [{ n }] = await env.db('holds').where({ event_id: ev.eventId }).count({ n: '*' });
    expect(Number(n)).toBe(statuses.filter((s) => s === 201).length);
    // Reads are never shed.
    const snap = await http(url, 'GET', `/api/events/${ev.eventId}/seats`);
    expect(snap.status).toBe(200);
  });

  it('sheds socket commands with a BUSY ack', async () => {
    const users = await createUsers(env, 40);
    const sockets = users.map((u) => {
      const w = watch(env.nodes[0]!.url, ev.eventId, { token: u.token });
      open.push(w);
      return w;
    });
    await Promise.all(sockets.map((w) => w.ready));
    const acks = await Promise.all(sockets.map((w, i) => send(w.socket, 'seat:hold', { seatIds: [ev.seatIds[60 + (i % 20)]!] })));
    const codes = new Set(acks.map((a) => (a.ok ? 'ok' : a.error.code)));
    expect(codes.has('BUSY')).toBe(true);
    for (const code of codes) expect(['ok', 'BUSY', 'SEAT_UNAVAILABLE']).toContain(code);
  });

  it('When the queue is full of new holds, then buyers who hold seats still book and release them (never BUSY)', async () => {
    const ev = await seedEvent(env, { rows: 2, seatsPerRow: 40, maxSeatsPerUser: 1, maxSeatsPerOrder: 1 });
    const holders = await createUsers(env, 6);
    const held = [];
    for (const [i, u] of holders.entries()) {
      const r = await http(env.nodes[0]!.url, 'POST', `/api/events/${ev.eventId}/holds`, { token: u.token, body: { seatIds: [ev.seatIds[i]] } });
      expect(r.status).toBe(201);
      held.push({ u, token: r.body.holdToken as string });
    }
    // A rush of new holds that overflows the queue, and at the same time the holders finish what they started.
    const rush = await createUsers(env, 60);
    const url = env.nodes[0]!.url;
    const [rushReplies, finishing] = await Promise.all([
      Promise.all(rush.map((u, i) => http(url, 'POST', `/api/events/${ev.eventId}/holds`, { token: u.token, body: { seatIds: [ev.seatIds[20 + (i % 40)]] } }))),
      Promise.all(
        held.map((h, i) =>
          i % 2 === 0
            ? http(url, 'POST', '/api/bookings', { token: h.u.token, body: { holdToken: h.token }, headers: { 'Idempotency-Key': `bp-${h.token}` } })
            : http(url, 'DELETE', `/api/holds/${h.token}`, { token: h.u.token }),
        ),
      ),
    ]);
    expect(rushReplies.some((r) => r.status === 503)).toBe(true);
    expect(finishing.map((r) => r.status)).toEqual(held.map((_, i) => (i % 2 === 0 ? 201 : 200)));
  });
});
