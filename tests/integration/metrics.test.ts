import { createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { testDialects, describeEach } from '../helpers/dialects';
import { send, until, watch } from '../helpers/sockets';

/** The value of one sample in Prometheus text output, or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_]+)="([^"]*)"/g)) got[k!] = v!;
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describeEach(testDialects(), '/metrics (%s)', (dialect) => {
  let env: TestEnv;
  beforeAll(async () => {
    // The sweeper stays idle here (first tick after a minute), so the test decides when holds are swept.
    env = await startTestEnv({ dialect, nodes: 2, env: { SWEEP_INTERVAL_MS: '60000' } });
  });
  afterAll(async () => {
    await env.stop();
  });
  const scrape = async (i: number) => {
    const r = await http(env.nodes[i]!.url, 'GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/text\/plain/);
    return r.body as string;
  };

  test('each node counts its own holds, bookings, conflicts, sockets, batches and latencies', async () => {
    const [alice, bob] = await createUsers(env, 2);
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 4 });
    const w = watch(env.nodes[0]!.url, ev.eventId, { token: alice!.token });
    try {
      await w.ready;
      const held = await send(w.socket, 'seat:hold', { seatIds: [ev.seatIds[0]!] });
      if (!held.ok) throw new Error(held.error.code);
      // Two separate batches: without this wait the hold and the booking may merge into one batch.
      await until(() => w.map.seats.get(ev.seatIds[0]!)?.status === 'held', 5000, 'hold broadcast');
      // Bob loses the race for the same seat on the other node (REST).
      const lost = await http(env.nodes[1]!.url, 'POST', `/api/events/${ev.eventId}/holds`, { token: bob!.token, body: { seatIds: [ev.seatIds[0]] } });
      expect(lost.status).toBe(409);
      const booked = await http(env.nodes[0]!.url, 'POST', '/api/bookings', {
        token: alice!.token,
        headers: { 'Idempotency-Key': 'metrics-test-key-1' },
        body: { holdToken: held.data.holdToken },
      });
      expect(booked.status).toBe(201);
      await until(() => w.map.seats.get(ev.seatIds[0]!)?.status === 'booked', 5000, 'booking broadcast');

      const a = await scrape(0);
      const b = await scrape(1);
      expect(sample(a, 'evently_holds_total', { transport: 'socket' })).toBe(1);
      expect(sample(a, 'evently_bookings_total', { transport: 'rest' })).toBe(1);
      expect(sample(a, 'evently_hold_duration_seconds_count', { transport: 'socket', outcome: 'ok' })).toBe(1);
      expect(sample(a, 'evently_booking_duration_seconds_count', { transport: 'rest', outcome: 'ok' })).toBe(1);
      expect(sample(a, 'evently_sockets_connected')).toBe(1);
      expect(sample(a, 'evently_broadcast_batch_seats_count')).toBeGreaterThanOrEqual(2);
      // Each batch's window is counted, and none is shorter than BROADCAST_BATCH_MS (10 ms in tests).
      expect(sample(a, 'evently_broadcast_window_ms_count')).toBe(sample(a, 'evently_broadcast_batch_seats_count'));
      expect(sample(a, 'evently_broadcast_window_ms_bucket', { le: '5' })).toBe(0);
      expect(sample(a, 'evently_broadcast_window_ms_sum')).toBeGreaterThanOrEqual(10 * sample(a, 'evently_broadcast_window_ms_count')!);
      expect(sample(a, 'evently_http_request_duration_seconds_count', { method: 'POST', route: '/api/bookings', status: '201' })).toBe(1);
      expect(sample(a, 'evently_db_pool_connections', { state: 'used' })).toBe(0);
      expect(sample(a, 'evently_db_pool_connections', { state: 'free' })).toBeGreaterThanOrEqual(1);
      expect(sample(a, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
      // Node 1's registry is its own: it saw the conflict and nothing else.
      expect(sample(b, 'evently_conflicts_total', { transport: 'rest', code: 'SEAT_UNAVAILABLE' })).toBe(1);
      expect(sample(b, 'evently_hold_duration_seconds_count', { transport: 'rest', outcome: 'error' })).toBe(1);
      expect(sample(b, 'evently_http_request_duration_seconds_count', { method: 'POST', route: '/api/events/:id/holds', status: '409' })).toBe(1);
      expect(sample(b, 'evently_holds_total', { transport: 'socket' }) ?? 0).toBe(0);
      expect(sample(b, 'evently_sockets_connected')).toBe(0);
      expect(sample(a, 'evently_conflicts_total', { transport: 'rest', code: 'SEAT_UNAVAILABLE' }) ?? 0).toBe(0);
    } finally {
      w.close();
    }
  });

  test('sweeper lag is the age of the oldest lapsed hold not yet swept, and 0 once swept', async () => {
    const [carol] = await createUsers(env, 1);
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 2, holdTtlSeconds: 60 });
    const r = await http(env.nodes[1]!.url, 'POST', `/api/events/${ev.eventId}/holds`, { token: carol!.token, body: { seatIds: [ev.seatIds[0]] } });
    expect(r.status).toBe(201);
    expect(sample(await scrape(0), 'evently_sweeper_lag_seconds')).toBe(0);
    env.clock.advance(60_000 + 45_000);
    expect(sample(await scrape(0), 'evently_sweeper_lag_seconds')).toBeCloseTo(45, 0);
    expect(await env.nodes[0]!.sweep()).toBe(1);
    expect(sample(await scrape(1), 'evently_sweeper_lag_seconds')).toBe(0);
  });
});
