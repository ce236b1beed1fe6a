import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { describeEach, mysqlDialects } from '../helpers/dialects';
import { createUsers, seedEvent, startTestEnv, type SeededEvent, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { connect, until } from '../helpers/sockets';

/**
 * Issue 16, item 1: a refused handshake leaves nothing behind. Socket.IO creates the child namespace (and its
 * three Redis adapter subscriptions) before our middleware decides; thousands of refused probes must leave the
 * namespace count and the Redis channel count where they were.
 *
 * Probes speak the Socket.IO wire protocol over a few raw WebSockets (one CONNECT packet per probe, answered by a
 * CONNECT_ERROR), so thousands of them take seconds, not thousands of client connections.
 */

/** One engine.io connection that sends namespace CONNECT packets and counts the answers. */
class ProbeLane {
  private answers: string[] = [];
  private waiters: (() => void)[] = [];
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const msg = raw.toString();
      if (msg === '2') return ws.send('3'); // engine.io ping -> pong
      if (msg.startsWith('4')) this.answers.push(msg.slice(1));
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(baseUrl: string): Promise<ProbeLane> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
    await new Promise<void>((resolve, reject) => {
      ws.once('message', () => resolve()); // the engine.io open packet
      ws.once('error', reject);
    });
    return new ProbeLane(ws);
  }

  /** Sends one CONNECT per probe and resolves with the answers (`4<nsp>,{...}` = CONNECT_ERROR). */
  async probe(packets: { nsp: string; auth: unknown }[]): Promise<string[]> {
    this.answers = [];
    for (const p of packets) this.ws.send(`40${p.nsp},${JSON.stringify(p.auth)}`);
    while (this.answers.length < packets.length) await new Promise<void>((r) => this.waiters.push(r));
    return this.answers;
  }

  close(): void {
    this.ws.close();
  }
}

describeEach(mysqlDialects(), 'refused handshakes leave nothing behind (%s, 2 nodes, Redis)', (dialect) => {
  const PER_KIND = 1000;
  let env: TestEnv;
  let ev: SeededEvent;
  let draft: SeededEvent;
  let redis: Redis;
  let goneToken: string;
  let buyer: { token: string };
  beforeAll(async () => {
    env = await startTestEnv({ dialect, nodes: 2, redis: true, env: { SWEEP_INTERVAL_MS: '60000', RATE_LIMIT_SOCKET_PER_SECOND: '0' } });
    redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
    ev = await seedEvent(env, { rows: 1, seatsPerRow: 4 });
    draft = await seedEvent(env, { rows: 1, seatsPerRow: 4, status: 'draft' });
    const [gone] = await createUsers(env, 1);
    await env.db('users').where({ id: gone!.id }).delete();
    goneToken = gone!.token;
    buyer = (await createUsers(env, 1))[0]!;
  });
  afterAll(async () => {
    redis.disconnect();
    await env.stop();
  });

  const channels = async () => (await redis.pubsub('CHANNELS', `${env.config.redisKeyPrefix}*`)).length;
  const counts = async () => ({ n0: env.nodes[0]!.namespaceCount(), n1: env.nodes[1]!.namespaceCount(), channels: await channels() });

  it('When thousands of probes of each kind are refused, then namespaces and Redis channels are back where they started', async () => {
    // A watcher keeps the valid event's namespace alive on node 0 (its refusals must not drop it); node 1 has none.
    const watcher = connect(env.nodes[0]!.url, ev.eventId);
    await until(() => watcher.connected, 5000, 'watcher connected');
    const before = await counts();

    const unknownId = (i: number) => `/events/${2_000_000_000 + i}`;
    const kinds: Record<string, (i: number) => { nsp: string; auth: unknown }> = {
      'unknown event id': (i) => ({ nsp: unknownId(i), auth: {} }),
      'unknown event id + bad token': (i) => ({ nsp: unknownId(i), auth: { token: `not-a-token-${i}` } }),
      'unknown event id + malformed cursor': (i) => ({ nsp: unknownId(i), auth: { cursor: 'x' } }),
      'valid event + bad token': (i) => ({ nsp: `/events/${ev.eventId}`, auth: { token: `bad.${i}.token` } }),
      'valid event + malformed cursor': () => ({ nsp: `/events/${ev.eventId}`, auth: { cursor: -1, extra: true } }),
      'valid event + removed user': () => ({ nsp: `/events/${ev.eventId}`, auth: { token: goneToken } }),
      'draft event (not watchable)': () => ({ nsp: `/events/${draft.eventId}`, auth: {} }),
    };
    const lanes = await Promise.all([0, 1, 0, 1].map((n) => ProbeLane.open(env.nodes[n]!.url)));
    const codes = new Map<string, number>();
    for (const [kind, make] of Object.entries(kinds)) {
      for (let start = 0; start < PER_KIND; start += 50 * lanes.length) {
        const answers = await Promise.all(
          lanes.map((lane, l) => lane.probe(Array.from({ length: 50 }, (_, j) => make(start + l * 50 + j)).filter((_, j) => start + l * 50 + j < PER_KIND))),
        );
        for (const a of answers.flat()) {
          expect([kind, a[0]]).toEqual([kind, '4']); // CONNECT_ERROR, never CONNECT
          const code = /"code":"([A-Z_]+)"/.exec(a)?.[1] ?? 'none';
          codes.set(`${kind}: ${code}`, (codes.get(`${kind}: ${code}`) ?? 0) + 1);
        }
      }
    }
    for (const lane of lanes) lane.close();
    expect(Object.fromEntries(codes)).toEqual({
      'unknown event id: EVENT_NOT_FOUND': PER_KIND,
      'unknown event id + bad token: INVALID_TOKEN': PER_KIND,
      'unknown event id + malformed cursor: VALIDATION_FAILED': PER_KIND,
      'valid event + bad token: INVALID_TOKEN': PER_KIND,
      'valid event + malformed cursor: VALIDATION_FAILED': PER_KIND,
      'valid event + removed user: UNAUTHORIZED': PER_KIND,
      'draft event (not watchable): EVENT_NOT_FOUND': PER_KIND,
    });
    // Redis unsubscribes asynchronously; wait for it (no timing assertion, only the end state).
    await until(async () => JSON.stringify(await counts()) === JSON.stringify(before), 10_000, `counts back to ${JSON.stringify(before)}`);
    // The watcher's namespace survived its neighbours' refusals and still delivers, also from the other node.
    const changed = new Promise<number[]>((res) => watcher.on('seats:changed', (b) => res(b.seats.map((s) => s.id))));
    const held = await http(env.nodes[1]!.url, 'POST', `/api/events/${ev.eventId}/holds`, { token: buyer.token, body: { seatIds: [ev.seatIds[0]] } });
    expect(held.status).toBe(201);
    expect(await changed).toEqual([ev.seatIds[0]]);
    watcher.close();
  }, 120_000);
});
