import type { Namespace } from 'socket.io';
import { EventlyClient, EventlyError, type HandshakeAuth } from '../../packages/client/src';
import { createUsers, seedEvent, startTestEnv, type SeededEvent, type TestEnv } from '../helpers/env';
import { watch as plainWatch, type Watcher } from '../helpers/sockets';

/**
 * The client package's behaviour against a real server (its sources; client-package.test.ts covers the packed
 * tarball): typed errors from REST and from socket acks, both state forms, a refused handshake, and a reconnect
 * that sends the map's cursor and catches up on a change made while the socket was away.
 */
describe('@evently/client against a server', () => {
  let env: TestEnv;
  let url: string;
  let event: SeededEvent;
  let alice: EventlyClient;
  let bob: EventlyClient;
  /** A second watcher keeps the event's namespace alive across the client's reconnect (an empty one is dropped). */
  let keeper: Watcher;

  beforeAll(async () => {
    env = await startTestEnv({ dialect: 'sqlite', sweeper: false });
    url = env.nodes[0]!.url;
    event = await seedEvent(env, { rows: 2, seatsPerRow: 5 });
    const [a, b] = await createUsers(env, 2);
    alice = new EventlyClient({ baseUrl: url, token: a!.token });
    bob = new EventlyClient({ baseUrl: url, token: b!.token });
    keeper = plainWatch(url, event.eventId);
    await keeper.ready;
  });
  afterAll(async () => {
    keeper?.close();
    await env?.stop();
  });

  it('When a REST call or a socket command is refused, then it rejects with an EventlyError carrying code, details and (REST only) status', async () => {
    const [s0] = event.seatIds;
    const w = alice.watch(event.eventId);
    try {
      await w.ready;
      const hold = await w.send('seat:hold', { seatIds: [s0!] });
      expect(hold.seats.map((s) => s.id)).toEqual([s0]);
      const viaSocket = bob.watch(event.eventId, { format: 'json' });
      try {
        await viaSocket.ready;
        const refused = await viaSocket.send('seat:hold', { seatIds: [s0!] }).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(EventlyError);
        expect(refused).toMatchObject({ code: 'SEAT_UNAVAILABLE', status: undefined, details: { seatIds: [s0] } });
      } finally {
        viaSocket.close();
      }
      const viaRest = await bob.holds.create(event.eventId, { seatIds: [s0!] }).catch((e: unknown) => e);
      expect(viaRest).toMatchObject({ name: 'EventlyError', status: 409, code: 'SEAT_UNAVAILABLE' });
      const anonymous = new EventlyClient({ baseUrl: url });
      await expect(anonymous.bookings.list()).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
      await alice.holds.release(hold.holdToken);
    } finally {
      w.close();
    }
  });

  it('When watching in either form, then the map holds every seat; compact needed the layout, JSON did not', async () => {
    const compact = alice.watch(event.eventId);
    const json = alice.watch(event.eventId, { format: 'json' });
    try {
      await Promise.all([compact.ready, json.ready]);
      expect(compact.map.layoutVersion).toEqual(expect.any(String));
      expect(json.map.layoutVersion).toBeUndefined();
      expect(compact.map.seats.size).toBe(event.seatIds.length);
      expect([...compact.map.seats.values()].map((s) => [s.id, s.status, s.version])).toEqual([...json.map.seats.values()].map((s) => [s.id, s.status, s.version]));
    } finally {
      compact.close();
      json.close();
    }
  });

  it('When the handshake is refused, then ready rejects with the server code and the watch is closed', async () => {
    const stranger = new EventlyClient({ baseUrl: url, token: 'not-a-token' });
    const w = stranger.watch(event.eventId, { format: 'json' });
    await expect(w.ready).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    expect(w.state).toBe('closed');
  });

  it('When the connection drops and a seat changes meanwhile, then the reconnect sends the cursor and the map catches up without a new snapshot', async () => {
    const [, , s2, s3] = event.seatIds;
    const nsp = env.nodes[0]!.io.of(`/events/${event.eventId}`) as unknown as Namespace;
    // Hold the client's next handshake at the door until the change it must catch up on is committed.
    const handshakes: HandshakeAuth[] = [];
    let arrived!: () => void;
    const reconnecting = new Promise<void>((r) => (arrived = r));
    let open!: () => void;
    const door = new Promise<void>((r) => (open = r));
    let gating = false;
    nsp.use((socket, next) => {
      if (!gating) return next();
      handshakes.push({ ...(socket.handshake.auth as HandshakeAuth) });
      arrived();
      void door.then(() => next());
    });

    const w = alice.watch(event.eventId, { socket: { reconnectionDelay: 20, reconnectionDelayMax: 50 } });
    let snapshots = 0;
    w.socket.on('seats:snapshot:compact', () => snapshots++);
    try {
      await w.ready;
      await w.send('seat:hold', { seatIds: [s2!] });
      await w.waitFor((map) => map.seats.get(s2!)?.status === 'held');
      const cursor = w.map.cursor;
      gating = true;
      w.socket.io.engine.close(); // the transport drops: socket.io-client reconnects by itself
      await reconnecting;
      await bob.holds.create(event.eventId, { seatIds: [s3!] });
      expect(w.map.seats.get(s3!)?.status).toBe('available');
      open();
      await w.waitFor((map) => map.seats.get(s3!)?.status === 'held');
      expect(handshakes).toEqual([{ format: 'compact', token: alice.token, cursor }]);
      expect(snapshots).toBe(1);
      expect(w.map.cursor).toBeGreaterThan(cursor);
    } finally {
      gating = false;
      open();
      w.close();
    }
  });
});
