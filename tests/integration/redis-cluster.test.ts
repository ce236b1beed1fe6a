import type { Cluster } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { startRedisCluster, type LocalRedisCluster } from '../../scripts/redis-cluster';
import { describeEach, mysqlDialects } from '../helpers/dialects';
import { createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { SeatMap } from '../../packages/client/src';
import { connect, connected, send, until, watch, type ClientSocket, type Watcher } from '../helpers/sockets';

/**
 * Three Evently nodes on MariaDB and a real local Redis Cluster (3 masters + 3 replicas on loopback, started
 * for this file): the sharded adapter fans changes out to the nodes that have watchers and to no other,
 * rate limits are shared, and killing a master ends in a failover the nodes and clients recover from.
 */
describeEach(mysqlDialects(), 'Redis Cluster (%s, 3 nodes, sharded adapter)', (dialect) => {
  let cluster: LocalRedisCluster;
  let env: TestEnv;
  const sockets: { close(): void }[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster({ nodeTimeoutMs: 2000 });
    env = await startTestEnv({
      dialect,
      nodes: 3,
      redisClusterNodes: cluster.seeds,
      env: { RATE_LIMIT_REST_PER_MINUTE: '10', RATE_LIMIT_LOGIN_FAILURES: '3' },
    });
  }, 120_000);

  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });

  afterAll(async () => {
    await env?.stop();
    await cluster?.stop();
  }, 60_000);

  const node = (i: number) => env.nodes[i]!;
  const watcher = async (nodeIndex: number, eventId: number): Promise<Watcher> => {
    const w = watch(node(nodeIndex).url, eventId);
    sockets.push(w);
    await w.ready;
    return w;
  };
  const actor = async (nodeIndex: number, eventId: number, token: string): Promise<ClientSocket> => {
    const s = connect(node(nodeIndex).url, eventId, { token });
    sockets.push(s);
    return connected(s);
  };
  /** Counts the sharded-channel messages a node's subscriber receives for one event: the adapter's and the seat relay's. */
  const countMessages = (nodeIndex: number, eventId: number): { count: number } => {
    const counter = { count: 0 };
    const marker = `#/events/${eventId}#`;
    node(nodeIndex).redis!.sub.on('smessageBuffer', (channel: Buffer) => {
      if (channel.toString().includes(marker)) counter.count++;
    });
    return counter;
  };

  it('When the nodes start on a cluster, then each becomes ready with its redis check (cluster state and every master)', async () => {
    for (let i = 0; i < 3; i++) {
      expect(node(i).redis?.mode).toBe('cluster');
      // Not ready until the cluster clients have connected (a moment after start).
      await until(async () => (await http(node(i).url, 'GET', '/readyz')).status === 200, 15_000, `node ${i} ready`);
      expect((await http(node(i).url, 'GET', '/readyz')).body.checks).toEqual({ database: 'ok', redis: 'ok' });
    }
  });

  it('When a seat is held on node A, then watchers on nodes B and C see it', async () => {
    const [alice] = await createUsers(env, 1);
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 10 });
    const [onB, onC] = await Promise.all([watcher(1, ev.eventId), watcher(2, ev.eventId)]);
    const a = await actor(0, ev.eventId, alice!.token);
    const ack = await send(a, 'seat:hold', { seatIds: [ev.seatIds[0]!, ev.seatIds[1]!] });
    expect(ack.ok).toBe(true);
    const held = (w: Watcher) => w.map.seats.get(ev.seatIds[0]!)?.status === 'held' && w.map.seats.get(ev.seatIds[1]!)?.status === 'held';
    await until(() => held(onB) && held(onC), 15_000, 'the hold to reach nodes B and C');
  });

  it('When a compact watcher is on node C and a seat is held on node A, then it gets the compact batch on its room channel', async () => {
    const [alice] = await createUsers(env, 1);
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 10 });
    const layout = (await http(node(0).url, 'GET', `/api/events/${ev.eventId}/layout`)).body;
    const map = new SeatMap();
    map.useLayout(layout.layoutVersion, layout.seats.map((s: { id: number }) => s.id));
    const compact = watch(node(2).url, ev.eventId, { format: 'compact' }, map);
    sockets.push(compact);
    await compact.ready;
    const a = await actor(0, ev.eventId, alice!.token);
    expect((await send(a, 'seat:hold', { seatIds: [ev.seatIds[3]!] })).ok).toBe(true);
    await until(() => map.seats.get(ev.seatIds[3]!)?.status === 'held', 15_000, 'the hold to reach the compact watcher on node C');
  });

  it('When node C has no socket on event X, then it receives no message of event X, even after publishing for X itself', async () => {
    const [alice, bob, carol] = await createUsers(env, 3);
    const x = await seedEvent(env, { rows: 1, seatsPerRow: 10 });
    const y = await seedEvent(env, { rows: 1, seatsPerRow: 10 });
    const onCx = countMessages(2, x.eventId);
    const onBx = countMessages(1, x.eventId);
    const onCy = countMessages(2, y.eventId);
    const xOnB = await watcher(1, x.eventId);
    const yOnC = await watcher(2, y.eventId);
    const a = await actor(0, x.eventId, alice!.token);

    // C publishes for X (a REST hold served by C relays its change), but subscribes to none of X's channels.
    const viaC = await http(node(2).url, 'POST', `/api/events/${x.eventId}/holds`, { token: bob!.token, body: { seatIds: [x.seatIds[5]!] } });
    expect(viaC.status).toBe(201);
    expect((await send(a, 'seat:hold', { seatIds: [x.seatIds[0]!] })).ok).toBe(true);
    await until(() => xOnB.map.seats.get(x.seatIds[0]!)?.status === 'held' && xOnB.map.seats.get(x.seatIds[5]!)?.status === 'held', 15_000, 'both X holds on B');
    // Positive control on C: a change of Y, published after X's, arrives there.
    const c = await actor(0, y.eventId, carol!.token);
    expect((await send(c, 'seat:hold', { seatIds: [y.seatIds[0]!] })).ok).toBe(true);
    await until(() => yOnC.map.seats.get(y.seatIds[0]!)?.status === 'held' && onCy.count > 0, 15_000, 'the Y hold on C');

    expect(onBx.count).toBeGreaterThan(0);
    expect(onCx.count).toBe(0);
  });

  it('When a user is deactivated on node A, then their socket on node C is disconnected at once (the access notice crosses the cluster)', async () => {
    const [user] = await createUsers(env, 1);
    const [admin] = await createUsers(env, 1, 'admin');
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 4 });
    const s = await actor(2, ev.eventId, user!.token);
    const gone = new Promise<string>((resolve) => s.on('disconnect', (reason) => resolve(reason)));
    const r = await http(node(0).url, 'PATCH', `/api/admin/users/${user!.id}`, { token: admin!.token, body: { active: false } });
    expect(r.status).toBe(200);
    // Well inside AUTH_CACHE_SECONDS (30 s): only the notice can do it.
    const reason = await Promise.race([gone, new Promise<string>((resolve) => setTimeout(() => resolve('still connected after 10 s'), 10_000).unref())]);
    expect(reason).toBe('io server disconnect');
  });

  it('When rate-limit points for many clients are taken in one turn, then they wait in the pipelines and each gets its own answer', async () => {
    // The limiter's Lua script (EVALSHA) on keys of every master: auto-pipelining groups them per master, and
    // a script's slot must come from its key, not from its SHA (a known ioredis pitfall in cluster mode).
    const client = node(0).redis!.redis as Cluster;
    await until(async () => client.status === 'ready', 10_000, 'cluster client ready');
    const limiter = new RateLimiterRedis({ storeClient: client, keyPrefix: `pipe-${Date.now()}`, points: 5, duration: 60 });
    await limiter.consume('warm-up'); // loads the script once
    const answers = Array.from({ length: 60 }, (_, i) => limiter.consume(`client-${i}`, 1 + (i % 3)));
    expect(client.autoPipelineQueueSize).toBeGreaterThan(0);
    const results = await Promise.all(answers);
    expect(results.map((r) => r.remainingPoints)).toEqual(Array.from({ length: 60 }, (_, i) => 5 - (1 + (i % 3))));
    expect(client.autoPipelineQueueSize).toBe(0);
  });

  it('When a client calls three nodes in turn, then they share one rate-limit budget', async () => {
    const [dave, erin] = await createUsers(env, 2);
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) statuses.push((await http(node(i % 3).url, 'GET', '/api/me', { token: dave!.token })).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
    for (let i = 0; i < 3; i++) {
      expect((await http(node(i).url, 'POST', '/api/auth/login', { body: { email: erin!.email, password: 'wrong-password-1' } })).status).toBe(401);
    }
    expect((await http(node(1).url, 'POST', '/api/auth/login', { body: { email: erin!.email, password: 'password-123' } })).status).toBe(429);
  });

  it('When the master serving an event is killed, then the cluster fails over, the nodes recover and clients converge by cursor', async () => {
    const [frank, gina] = await createUsers(env, 2);
    const ev = await seedEvent(env, { rows: 2, seatsPerRow: 10 });
    const [onB, onC] = await Promise.all([watcher(1, ev.eventId), watcher(2, ev.eventId)]);
    const slot = await cluster.keySlot(`${env.config.redisKeyPrefix}#/events/${ev.eventId}#watchers#`);
    const master = await cluster.masterOfSlot(slot);

    await cluster.kill(master);
    // The database decides: holds succeed during the outage; their broadcasts may be lost (at most once).
    for (let i = 0; i < 3; i++) {
      const r = await http(node(0).url, 'POST', `/api/events/${ev.eventId}/holds`, { token: frank!.token, body: { seatIds: [ev.seatIds[i]!] } });
      expect(r.status).toBe(201);
    }
    await cluster.waitForFailover(slot, master, 30_000);
    await cluster.waitHealthy(30_000);
    for (let i = 0; i < 3; i++) {
      await until(async () => (await http(node(i).url, 'GET', '/readyz')).status === 200, 30_000, `node ${i} ready again`);
    }

    // Catch-up from the cursor each client had: what it missed comes from seat_changes.
    for (const w of [onB, onC]) {
      const ack = await send(w.socket, 'seats:sync', { cursor: w.map.cursor });
      expect(ack.ok).toBe(true);
    }
    const heldInDb = async () => (await env.db('event_seats').where({ event_id: ev.eventId, status: 'held' }).pluck('seat_id')).map(Number).sort((p, q) => p - q);
    const heldIn = (w: Watcher) => [...w.map.seats.values()].filter((s) => s.status === 'held').map((s) => s.id).sort((p, q) => p - q);
    const expected = await heldInDb();
    expect(expected).toEqual(ev.seatIds.slice(0, 3).sort((p, q) => p - q));
    await until(() => JSON.stringify(heldIn(onB)) === JSON.stringify(expected) && JSON.stringify(heldIn(onC)) === JSON.stringify(expected), 15_000, 'clients to converge');

    // Live fan-out works again through the promoted replica.
    const g = await actor(0, ev.eventId, gina!.token);
    expect((await send(g, 'seat:hold', { seatIds: [ev.seatIds[10]!] })).ok).toBe(true);
    await until(() => onB.map.seats.get(ev.seatIds[10]!)?.status === 'held' && onC.map.seats.get(ev.seatIds[10]!)?.status === 'held', 20_000, 'the new hold on B and C');

    // The old master comes back as a replica; the cluster stays healthy, and the shard has a replica again.
    await cluster.restart(master);
    await cluster.waitHealthy(30_000);
    await cluster.waitReplicated(30_000);
  }, 120_000);

  it("When a node subscribes to a room while every server of the room's shard is down, then it subscribes again once the shard is back", async () => {
    const [hank] = await createUsers(env, 1);
    const ev = await seedEvent(env, { rows: 1, seatsPerRow: 10 });
    const slot = await cluster.keySlot(`${env.config.redisKeyPrefix}#/events/${ev.eventId}#watchers#`);
    const master = await cluster.masterOfSlot(slot);
    const shard = [master, ...(await cluster.replicasOf(master))];
    expect(shard.length).toBeGreaterThan(1);
    const retries = async () => (await node(0).metrics.redisSubscriptionRetries.get()).values[0]?.value ?? 0;
    const before = await retries();

    await Promise.all(shard.map((port) => cluster.kill(port)));
    let onA: Watcher;
    try {
      // Node 0 has no socket on this event yet: its first watcher makes the adapter subscribe to the room's
      // channel, with no server for it. The handshake waits for that at most 2 s, then reads the snapshot anyway.
      onA = await watcher(0, ev.eventId);
      await until(async () => (await retries()) > before, 30_000, 'the refused subscription to be sent again');
    } finally {
      for (const port of shard) await cluster.restart(port);
    }
    await cluster.waitHealthy(30_000);
    await cluster.waitReplicated(30_000);
    for (let i = 0; i < 3; i++) {
      await until(async () => (await http(node(i).url, 'GET', '/readyz')).status === 200, 30_000, `node ${i} ready again`);
    }

    // A hold on node 1 reaches node 0's watcher only through the room's channel: node 0 is subscribed again.
    const a = await actor(1, ev.eventId, hank!.token);
    expect((await send(a, 'seat:hold', { seatIds: [ev.seatIds[0]!] })).ok).toBe(true);
    await until(() => onA.map.seats.get(ev.seatIds[0]!)?.status === 'held', 30_000, "the hold made on node 1 to reach node 0's watcher");
  }, 120_000);
});
