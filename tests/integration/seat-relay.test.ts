import { Redis } from 'ioredis';
import type { SeatsChanged } from '../../packages/client/src';
import { describeEach, mysqlDialects } from '../helpers/dialects';
import { createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { connect, connected, send, until, watch, type ClientSocket, type Watcher } from '../helpers/sockets';

/** A window long enough that both nodes' holds below commit inside it, however slow the machine. */
const WINDOW_MS = 1000;

/**
 * Seat changes between nodes (server/realtime/seat-relay.ts), on MariaDB, two nodes and a real Redis: each node
 * relays its commits to the nodes watching the event, and sends its own and the relayed ones to its sockets in
 * one window. A watcher gets one batch per window, not one per node.
 */
describeEach(mysqlDialects(), 'seat changes relayed between nodes (%s, 2 nodes, Redis)', (dialect) => {
  let env: TestEnv;
  let redis: Redis;
  const sockets: { close(): void }[] = [];

  beforeAll(async () => {
    // The short window stays the window: pacing (a wider one on a busy node) is off at or below it.
    env = await startTestEnv({ dialect, nodes: 2, redis: true, env: { BROADCAST_BATCH_MS: String(WINDOW_MS), BROADCAST_MAX_BATCH_MS: String(WINDOW_MS) } });
    redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
  });
  afterEach(() => sockets.splice(0).forEach((s) => s.close()));
  afterAll(async () => {
    redis?.disconnect();
    await env?.stop();
  });

  const node = (i: number) => env.nodes[i]!;
  const channelOf = (eventId: number) => `${env.config.redisKeyPrefix}:relay#/events/${eventId}#`;
  const subscribers = async (eventId: number) => Number(((await redis.pubsub('NUMSUB', channelOf(eventId))) as [string, number])[1]);

  /** A watcher that also keeps every `seats:changed` batch it receives, in order. */
  const watcher = async (nodeIndex: number, eventId: number): Promise<Watcher & { batches: SeatsChanged[] }> => {
    const w = watch(node(nodeIndex).url, eventId);
    const batches: SeatsChanged[] = [];
    w.socket.on('seats:changed', (b) => batches.push(b));
    sockets.push(w);
    await w.ready;
    return { ...w, batches };
  };
  const actor = async (nodeIndex: number, eventId: number, token: string): Promise<ClientSocket> => {
    const s = connect(node(nodeIndex).url, eventId, { token });
    sockets.push(s);
    return connected(s);
  };

  it('When seats change on both nodes within one window, then a watcher on each node receives them in one batch', async () => {
    const [alice, bob] = await createUsers(env, 2);
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 10 });
    const [on0, on1] = await Promise.all([watcher(0, ev.eventId), watcher(1, ev.eventId)]);
    const [a, b] = await Promise.all([actor(0, ev.eventId, alice!.token), actor(1, ev.eventId, bob!.token)]);
    const [s0, s1] = [ev.seatIds[0]!, ev.seatIds[1]!];

    expect((await send(a, 'seat:hold', { seatIds: [s0] })).ok).toBe(true);
    expect((await send(b, 'seat:hold', { seatIds: [s1] })).ok).toBe(true);
    const bothHeld = (w: Watcher) => w.map.seats.get(s0)?.status === 'held' && w.map.seats.get(s1)?.status === 'held';
    await until(() => bothHeld(on0) && bothHeld(on1), 4 * WINDOW_MS, 'both holds on both watchers');

    // Through the adapter each node's window reached every socket: two batches each, one per node.
    for (const w of [on0, on1]) {
      const carrying = w.batches.filter((batch) => batch.seats.some((s) => s.id === s0 || s.id === s1));
      expect(carrying).toHaveLength(1);
      expect(carrying[0]!.seats.map((s) => s.id).sort((x, y) => x - y)).toEqual([s0, s1].sort((x, y) => x - y));
    }
  });

  it('When a node has no watcher of an event, then it is not subscribed to its relay channel, even after committing for it', async () => {
    const [alice] = await createUsers(env, 1);
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 10 });
    expect(await subscribers(ev.eventId)).toBe(0);
    const on0 = await watcher(0, ev.eventId);
    expect(await subscribers(ev.eventId)).toBe(1);

    // Node 1 commits for the event (a REST hold) and relays it; node 0's watcher sees it, node 1 subscribes to nothing.
    const viaRest = await http(node(1).url, 'POST', `/api/events/${ev.eventId}/holds`, { token: alice!.token, body: { seatIds: [ev.seatIds[2]!] } });
    expect(viaRest.status).toBe(201);
    await until(() => on0.map.seats.get(ev.seatIds[2]!)?.status === 'held', 4 * WINDOW_MS, 'the REST hold on node 0');
    expect(await subscribers(ev.eventId)).toBe(1);

    const on1 = await watcher(1, ev.eventId);
    expect(await subscribers(ev.eventId)).toBe(2);
    on0.close();
    on1.close();
    // The last watcher of a node leaving ends that node's subscription.
    await until(async () => (await subscribers(ev.eventId)) === 0, 5000, 'both nodes to unsubscribe');
  });

  it('When a malformed or foreign batch arrives on the relay channel, then it is dropped, a holder never reaches a buyer, and later changes still arrive', async () => {
    const [alice] = await createUsers(env, 1);
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 10 });
    const on1 = await watcher(1, ev.eventId);
    const [s3, s4, s5] = [ev.seatIds[3]!, ev.seatIds[4]!, ev.seatIds[5]!];
    const channel = channelOf(ev.eventId);

    await redis.publish(channel, 'not json');
    await redis.publish(channel, JSON.stringify({ node: 'x', eventId: ev.eventId, cursor: 1, seats: [{ id: s3, status: 'stolen', version: 99 }] }));
    await redis.publish(channel, JSON.stringify({ node: 'x', eventId: ev.eventId + 1, cursor: 1, seats: [{ id: s3, status: 'held', version: 99 }] }));
    // Well formed but carrying staff fields: the seat passes, the holder does not.
    const holder = { userId: 1, name: 'Somebody', email: 'somebody@example.com' };
    await redis.publish(channel, JSON.stringify({ node: 'x', eventId: ev.eventId, cursor: 1, seats: [{ id: s4, status: 'held', version: 99, holder, holdToken: 't' }] }));

    const a = await actor(0, ev.eventId, alice!.token);
    expect((await send(a, 'seat:hold', { seatIds: [s5] })).ok).toBe(true);
    await until(() => on1.map.seats.get(s5)?.status === 'held', 4 * WINDOW_MS, 'the real hold on node 1');

    expect(on1.map.seats.get(s3)).toMatchObject({ status: 'available' });
    expect(on1.map.seats.get(s4)).toMatchObject({ status: 'held', version: 99 });
    expect(JSON.stringify(on1.batches)).not.toMatch(/holder|holdToken|Somebody/);
  });
});
