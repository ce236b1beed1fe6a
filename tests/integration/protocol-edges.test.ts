import { describeEach, mysqlDialects } from '../helpers/dialects';
import { createUsers, seedEvent, startTestEnv, type SeededEvent, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { connect, send, until, type ClientSocket } from '../helpers/sockets';

/** Issue 16, item 5: an unknown command is answered, and `cursor: 0` means "send me everything". */
describeEach(mysqlDialects(), 'socket protocol edges (%s, 2 nodes, Redis)', (dialect) => {
  let env: TestEnv;
  let ev: SeededEvent;
  let buyer: { token: string };
  const sockets: ClientSocket[] = [];
  beforeAll(async () => {
    env = await startTestEnv({ dialect, nodes: 2, redis: true, env: { SWEEP_INTERVAL_MS: '60000' } });
    buyer = (await createUsers(env, 1))[0]!;
    ev = await seedEvent(env, { rows: 1, seatsPerRow: 8 });
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });
  afterAll(() => env.stop());

  const open = async (auth: { token?: string; cursor?: number }, url = env.nodes[1]!.url) => {
    const s = connect(url, ev.eventId, auth);
    sockets.push(s);
    return s;
  };

  it('When a client sends an unknown command with an ack, then it gets UNKNOWN_COMMAND (signed in or not), and the socket stays usable', async () => {
    for (const auth of [{ token: buyer.token }, {}]) {
      const s = await open(auth);
      await until(() => s.connected, 5000, 'connected');
      for (const name of ['seat:teleport', 'admin:anything', '__proto__', 'constructor', 'x'.repeat(300)]) {
        const reply = await (s as any).timeout(5000).emitWithAck(name, { seatIds: [1] });
        expect([name.slice(0, 20), reply]).toEqual([name.slice(0, 20), { ok: false, error: { code: 'UNKNOWN_COMMAND', message: 'Unknown command' } }]);
      }
      // Without an ack there is nobody to answer: ignored, and known commands still work.
      (s as any).emit('seat:teleport', {});
      const sync = (await send(s, 'seats:sync', {})) as any;
      expect(sync.ok).toBe(true);
    }
  });

  it('When a client connects with cursor 0 after changes happened, then it gets a full snapshot, not a change list', async () => {
    const held = await http(env.nodes[0]!.url, 'POST', `/api/events/${ev.eventId}/holds`, { token: buyer.token, body: { seatIds: [ev.seatIds[0], ev.seatIds[1]] } });
    expect(held.status).toBe(201);
    const s = await open({ cursor: 0 });
    const got: { kind: string; seats: number }[] = [];
    s.on('seats:snapshot', (snap) => got.push({ kind: 'snapshot', seats: snap.seats.length }));
    s.on('seats:changed', (b) => got.push({ kind: 'changed', seats: b.seats.length }));
    // The hold's own live broadcast may still be on its way and arrive first (clients keep the highest version per
    // seat, so that is harmless): what matters is that the sync is a full snapshot, not a list of changes.
    await until(() => got.some((g) => g.kind === 'snapshot'), 5000, 'a snapshot');
    expect(got.find((g) => g.kind === 'snapshot')).toEqual({ kind: 'snapshot', seats: ev.seatIds.length });
    // seats:sync with cursor 0 too.
    const sync = (await send(s, 'seats:sync', { cursor: 0 })) as any;
    expect(sync).toEqual({ ok: true, data: { mode: 'snapshot' } });
  });
});
