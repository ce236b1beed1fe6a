import type { SeatsSnapshot } from '../../packages/client/src';
import { testDialects, describeEach } from '../helpers/dialects';
import { createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { send, until, watch, type Watcher } from '../helpers/sockets';

type Account = { id: number; token: string; email: string };

/**
 * Sockets that join one event together share snapshot reads and get each read with one broadcast (encoded
 * once). Every one must still get exactly one correct snapshot, staff ones with holders and nobody else's.
 */
describeEach(testDialects(), 'join storm on %s', (dialect) => {
  let env: TestEnv;
  let url: string;
  let clerk: Account;
  let admin: Account;
  let alice: Account;
  let buyers: Account[];
  const open: Watcher[] = [];
  beforeAll(async () => {
    env = await startTestEnv({ dialect });
    url = env.nodes[0]!.url;
    [clerk] = await createUsers(env, 1, 'box_office');
    [admin] = await createUsers(env, 1, 'admin');
    [alice, ...buyers] = await createUsers(env, 5, 'user');
  });
  afterEach(() => {
    while (open.length) open.pop()!.close();
  });
  afterAll(() => env.stop());

  it('gives every socket of a simultaneous join one correct snapshot (staff with holders, others without), one encode per shared read', async () => {
    const ev = await seedEvent(env, { rows: 2, seatsPerRow: 10 });
    const [s0, s1, s2] = ev.seatIds as [number, number, number];
    expect((await http(url, 'POST', `/api/events/${ev.eventId}/holds`, { token: alice.token, body: { seatIds: [s0] } })).status).toBe(201);
    const walkIn = await http(url, 'POST', `/api/admin/events/${ev.eventId}/holds`, { token: clerk.token, body: { seatIds: [s1], customer: { name: 'Walk In' } } });
    expect(walkIn.status).toBe(201);

    // Count how often the node's Socket.IO encoder serialises a snapshot packet (socket.emit and broadcasts share it).
    const encoder = (env.nodes[0]!.io as unknown as { encoder: { encode(p: { data?: unknown[] }): unknown } }).encoder;
    const encode = encoder.encode.bind(encoder);
    let snapshotEncodes = 0;
    encoder.encode = (p) => {
      if (Array.isArray(p.data) && p.data[0] === 'seats:snapshot') snapshotEncodes++;
      return encode(p);
    };
    // Hold every snapshot read until all sockets are connected, so the test does not depend on timing.
    const { seats, staffView } = env.nodes[0]!.services;
    const snapshot = seats.snapshot;
    const staffSnapshot = staffView.staffSnapshot;
    let openGate!: () => void;
    const gate = new Promise<void>((r) => (openGate = r));
    const reads = { public: 0, staff: 0 };
    seats.snapshot = async (id) => {
      reads.public++;
      await gate;
      return snapshot.call(seats, id);
    };
    staffView.staffSnapshot = async (id) => {
      reads.staff++;
      await gate;
      return staffSnapshot.call(staffView, id);
    };
    try {
      const join = (token?: string) => {
        const w = watch(url, ev.eventId, token ? { token } : {});
        const snaps: SeatsSnapshot[] = [];
        w.socket.on('seats:snapshot', (s) => snaps.push(s));
        open.push(w);
        return { w, snaps };
      };
      const staff = [clerk, admin, clerk, admin].map((u) => join(u.token));
      const others = [...Array.from({ length: 12 }, () => join()), ...buyers.map((u) => join(u.token))];
      // A change commits while the storm's reads are in flight: every map must still converge on it.
      const during = await http(url, 'POST', `/api/events/${ev.eventId}/holds`, { token: alice.token, body: { seatIds: [s2] } });
      expect(during.status).toBe(201);
      const all = [...staff, ...others];
      await until(() => all.every((j) => j.w.socket.connected), 5000, 'all sockets connected');
      openGate();
      await Promise.all(all.map((j) => j.w.ready));
      await until(() => all.every((j) => j.w.map.seats.get(s2)?.status === 'held'), 5000, 'every map shows the hold made during the join');

      const rows = await env.db('event_seats').where({ event_id: ev.eventId }).select('seat_id', 'status', 'version');
      for (const { w, snaps } of all) {
        expect(snaps).toHaveLength(1);
        expect(snaps[0]!.eventId).toBe(ev.eventId);
        expect(w.map.seats.size).toBe(ev.seatIds.length);
        for (const r of rows) expect([r.seat_id, w.map.seats.get(r.seat_id)?.status, w.map.seats.get(r.seat_id)?.version]).toEqual([r.seat_id, r.status, r.version]);
      }
      for (const { snaps } of staff) {
        const seat = (id: number) => snaps[0]!.seats.find((s) => s.id === id)!;
        expect(seat(s0).holder).toEqual({ userId: alice.id, name: 'user 0', email: alice.email });
        expect(seat(s1).holder?.name).toBe('Walk In');
      }
      const publicText = JSON.stringify(others.map((o) => o.snaps));
      expect(publicText).not.toContain('holder');
      expect(publicText).not.toContain('holdToken');
      expect(publicText).not.toContain(alice.email);
      expect(publicText).not.toContain('Walk In');
      // socket.emit would encode once per socket; shared reads go out as one broadcast each.
      // The first socket of each kind starts a read; all that join during it share the next one.
      expect(reads).toEqual({ public: 2, staff: 2 });
      expect(snapshotEncodes).toBe(4);

      // A socket asking twice at once (seats:sync) still gets one snapshot per request.
      const { w, snaps } = others[0]!;
      const acks = await Promise.all([send(w.socket, 'seats:sync', {}), send(w.socket, 'seats:sync', {})]);
      expect(acks).toEqual([
        { ok: true, data: { mode: 'snapshot' } },
        { ok: true, data: { mode: 'snapshot' } },
      ]);
      await until(() => snaps.length === 3, 3000, 'two more snapshots');
    } finally {
      openGate();
      seats.snapshot = snapshot;
      staffView.staffSnapshot = staffSnapshot;
      encoder.encode = encode;
    }
  });
});
