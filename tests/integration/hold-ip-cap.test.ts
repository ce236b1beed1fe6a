import { describeEach, mysqlDialects } from '../helpers/dialects';
import { createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { send, watch, type Watcher } from '../helpers/sockets';

/**
 * Issue 16, item 2: one client with many accounts cannot hold a whole event. Seats held live per event are
 * capped per client address (HOLD_CAP_PER_IP) across accounts, on every node (the count is in the database).
 */
describeEach(mysqlDialects(), 'per-IP hold cap on %s (two nodes, Redis)', (dialect) => {
  let env: TestEnv;
  const open: Watcher[] = [];
  beforeAll(async () => {
    // TRUST_PROXY so the test can speak for several addresses through X-Forwarded-For, as nginx would.
    env = await startTestEnv({ dialect, nodes: 2, redis: true, env: { HOLD_CAP_PER_IP: '6', TRUST_PROXY: 'true' } });
  });
  afterEach(() => open.splice(0).forEach((w) => w.close()));
  afterAll(() => env.stop());

  const from = (ip: string) => ({ 'X-Forwarded-For': ip });

  it('When one address holds up to the cap over several accounts and nodes, then its next hold is refused IP_HOLD_LIMIT_REACHED, other addresses and staff are not', async () => {
    const ev = await seedEvent(env, { rows: 2, seatsPerRow: 10, maxSeatsPerUser: 4, maxSeatsPerOrder: 4 });
    const accounts = await createUsers(env, 4);
    const [staff] = await createUsers(env, 1, 'box_office');
    const hold = (node: number, token: string, seats: number[], ip: string) =>
      http(env.nodes[node]!.url, 'POST', `/api/events/${ev.eventId}/holds`, { token, body: { seatIds: seats.map((i) => ev.seatIds[i]) }, headers: from(ip) });
    expect((await hold(0, accounts[0]!.token, [0, 1, 2], '203.0.113.7')).status).toBe(201);
    expect((await hold(1, accounts[1]!.token, [3, 4, 5], '203.0.113.7')).status).toBe(201);
    const refused = await hold(0, accounts[2]!.token, [6], '203.0.113.7');
    expect([refused.status, refused.body.error.code, refused.body.error.details]).toEqual([422, 'IP_HOLD_LIMIT_REACHED', { max: 6, held: 6 }]);
    const before = await env.db('holds').where({ event_id: ev.eventId }).count({ n: '*' });
    // Over the socket too (the address is the handshake's).
    const w = watch(env.nodes[1]!.url, ev.eventId, { token: accounts[3]!.token });
    open.push(w);
    await w.ready;
    // Sockets here connect from 127.0.0.1 without a forwarded address: another address, not capped.
    expect((await send(w.socket, 'seat:hold', { seatIds: [ev.seatIds[7]!] })).ok).toBe(true);
    // Another address and staff are unaffected; the refusal wrote nothing.
    expect((await hold(1, accounts[2]!.token, [8], '198.51.100.9')).status).toBe(201);
    expect((await hold(0, staff!.token, [10, 11, 12, 13], '203.0.113.7')).status).toBe(201);
    const after = await env.db('holds').where({ event_id: ev.eventId }).count({ n: '*' });
    expect(Number(after[0]!.n)).toBe(Number(before[0]!.n) + 3);
    // The metric counts it.
    const metrics = await (await fetch(`${env.nodes[0]!.url}/metrics`)).text();
    expect(metrics).toMatch(/evently_rate_limited_total\{limit="hold_ip"\} [1-9]/);
  });

  it('When the address releases seats, then it may hold again up to the cap; best available is capped too', async () => {
    const ev = await seedEvent(env, { rows: 2, seatsPerRow: 10, maxSeatsPerUser: 6, maxSeatsPerOrder: 6 });
    const [a, b] = await createUsers(env, 2);
    const ip = '192.0.2.44';
    const first = await http(env.nodes[0]!.url, 'POST', `/api/events/${ev.eventId}/holds`, { token: a!.token, body: { seatIds: ev.seatIds.slice(0, 6) }, headers: from(ip) });
    expect(first.status).toBe(201);
    const best = await http(env.nodes[1]!.url, 'POST', `/api/events/${ev.eventId}/holds/best`, { token: b!.token, body: { quantity: 2 }, headers: from(ip) });
    expect([best.status, best.body.error?.code]).toEqual([422, 'IP_HOLD_LIMIT_REACHED']);
    expect((await http(env.nodes[0]!.url, 'DELETE', `/api/holds/${first.body.holdToken}`, { token: a!.token, body: { seatIds: ev.seatIds.slice(0, 2) } })).status).toBe(200);
    const again = await http(env.nodes[1]!.url, 'POST', `/api/events/${ev.eventId}/holds/best`, { token: b!.token, body: { quantity: 2 }, headers: from(ip) });
    expect(again.status).toBe(201);
  });
});
