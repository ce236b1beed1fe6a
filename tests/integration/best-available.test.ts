import { mysqlDialects, testDialects, describeEach } from '../helpers/dialects';
import { createUsers, seedEvent, startTestEnv, type SeededEvent, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { send, until, watch } from '../helpers/sockets';

type User = { id: number; token: string };

describeEach(testDialects(), 'best available on %s', (dialect) => {
  let env: TestEnv;
  let url: string;
  let users: User[];

  beforeAll(async () => {
    env = await startTestEnv({ dialect });
    url = env.nodes[0]!.url;
    users = await createUsers(env, 4);
  });
  afterAll(() => env.stop());

  const best = (ev: SeededEvent, user: User, body: unknown) => http(url, 'POST', `/api/events/${ev.eventId}/holds/best`, { token: user.token, body });
  /** "row-number" of each held seat, e.g. ["A-3", "A-4"]. */
  const labels = async (seatIds: number[]) =>
    (await env.db('seats').whereIn('id', seatIds).orderBy('id').select('row_label', 'number')).map((s) => `${s.row_label}-${s.number}`);
  const ids = (body: { seats: { id: number }[] }) => body.seats.map((s) => s.id);

  it('holds the best adjacent block nearest the stage, centred, never stranding a single seat', async () => {
    const ev = await seedEvent(env, { rows: 3, seatsPerRow: 6 });
    const first = await best(ev, users[0]!, { quantity: 2 });
    expect(first.status).toBe(201);
    expect(await labels(ids(first.body))).toEqual(['A-3', 'A-4']);
    const held = await env.db('event_seats').where({ event_id: ev.eventId, status: 'held' });
    expect(held).toHaveLength(2);
    const hold = await env.db('holds').where({ token: first.body.holdToken }).first();
    expect(hold).toMatchObject({ user_id: users[0]!.id, status: 'active' });

    // Row A has 1-2 and 5-6 free: a pair fits either side without stranding anyone.
    const second = await best(ev, users[1]!, { quantity: 2 });
    expect(await labels(ids(second.body))).toEqual(['A-1', 'A-2']);
    // Three in a row: A has only 5-6; B is empty and B-1..3 leaves B-4..6 whole.
    const third = await best(ev, users[2]!, { quantity: 3 });
    expect(await labels(ids(third.body))).toEqual(['B-1', 'B-2', 'B-3']);
    // One seat: is nearer the stage but would strand the other; B-4 leaves the pair B-5..6 whole.
    const fourth = await best(ev, users[3]!, { quantity: 1 });
    expect(await labels(ids(fourth.body))).toEqual(['B-4']);
  });

  it('respects category and refuses a split unless allowed', async () => {
    const ev = await seedEvent(env, { rows: 2, seatsPerRow: 4 }); // row A is 'front', row B 'standard'
    const front = await best(ev, users[0]!, { quantity: 2, category: 'standard' });
    expect(await labels(ids(front.body))).toEqual(['B-1', 'B-2']);
    // Leave A with only non-adjacent seats: free.
    const [a1, a2, a3, a4] = ev.seatIds as [number, number, number, number];
    expect((await http(url, 'POST', `/api/events/${ev.eventId}/holds`, { token: users[1]!.token, body: { seatIds: [a2, a4] } })).status).toBe(201);
    const before = await env.db('event_seats').where({ event_id: ev.eventId }).orderBy('seat_id').select('seat_id', 'status', 'version');
    const holdsBefore = await env.db('holds').count({ n: '*' });
    const refused = await best(ev, users[2]!, { quantity: 2, category: 'front' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('NO_SEATS_AVAILABLE');
    expect(await env.db('event_seats').where({ event_id: ev.eventId }).orderBy('seat_id').select('seat_id', 'status', 'version')).toEqual(before);
    expect(await env.db('holds').count({ n: '*' })).toEqual(holdsBefore);
    const split = await best(ev, users[2]!, { quantity: 2, category: 'front', allowSplit: true });
    expect(split.status).toBe(201);
    expect(ids(split.body).sort((x, y) => x - y)).toEqual([a1, a3]);
  });

  it('works over the socket and broadcasts the hold', async () => {
    const ev = await seedEvent(env, { rows: 2, seatsPerRow: 4 });
    const actor = watch(url, ev.eventId, { token: users[0]!.token });
    const viewer = watch(url, ev.eventId);
    await Promise.all([actor.ready, viewer.ready]);
    try {
      const ack = await send(actor.socket, 'seat:best', { quantity: 2 });
      expect(ack.ok).toBe(true);
      if (!ack.ok) return;
      // A-2..3 is the middle but would strand; A-1..2 leaves the pair A-3..4.
      expect(await labels(ack.data.seats.map((s) => s.id))).toEqual(['A-1', 'A-2']);
      await until(() => ack.data.seats.every((s) => viewer.map.seats.get(s.id)?.status === 'held'), 5000, 'broadcast of the best hold');
      const bad = await send(actor.socket, 'seat:best', { quantity: 2, extra: 1 } as never);
      expect(bad.ok).toBe(false);
      if (!bad.ok) expect(bad.error.code).toBe('VALIDATION_FAILED');
    } finally {
      actor.close();
      viewer.close();
    }
  });

  it('rejects bad input with a clear error and changes nothing', async () => {
    const ev = await seedEvent(env, { rows: 2, seatsPerRow: 4, maxSeatsPerOrder: 3 });
    const state = async () => ({
      seats: await env.db('event_seats').where({ event_id: ev.eventId }).orderBy('seat_id').select('seat_id', 'status', 'version'),
      holds: await env.db('holds').count({ n: '*' }),
      changes: await env.db('seat_changes').count({ n: '*' }),
    });
    const before = await state();
    const cases: [unknown, number, string][] = [
      [{ quantity: 0 }, 400, 'VALIDATION_FAILED'],
      [{ quantity: 101 }, 400, 'VALIDATION_FAILED'],
      [{ quantity: 2, colour: 'red' }, 400, 'VALIDATION_FAILED'],
      [{ quantity: 2, allowSplit: 'yes' }, 400, 'VALIDATION_FAILED'],
      [{ quantity: 4 }, 422, 'TOO_MANY_SEATS'],
      [{ quantity: 2, section: 'Nowhere' }, 422, 'UNKNOWN_SECTION'],
      [{ quantity: 2, accessible: true }, 409, 'NO_SEATS_AVAILABLE'],
    ];
    for (const [body, status, code] of cases) {
      const res = await best(ev, users[0]!, body);
      expect([res.status, res.body.error?.code]).toEqual([status, code]);
    }
    expect((await http(url, 'POST', `/api/events/${ev.eventId}/holds/best`, { body: { quantity: 1 } })).status).toBe(401);
    expect((await http(url, 'POST', `/api/events/999999/holds/best`, { token: users[0]!.token, body: { quantity: 1 } })).status).toBe(404);
    expect(await state()).toEqual(before);
  });
});

describeEach(mysqlDialects(), 'best available under concurrency on %s', (dialect) => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ dialect, nodes: 2, poolMax: 6 });
  });
  afterAll(() => env.stop());

  it('gives concurrent buyers disjoint blocks, trying the next best when one is taken', async () => {
    const ev = await seedEvent(env, { rows: 4, seatsPerRow: 6 });
    const users = await createUsers(env, 12);
    // 12 pairs fit exactly in 4 rows of 6 without stranding anyone; all ask at once over two nodes.
    const results = await Promise.all(
      users.map((u, i) => http(env.nodes[i % 2]!.url, 'POST', `/api/events/${ev.eventId}/holds/best`, { token: u.token, body: { quantity: 2 } })),
    );
    for (const r of results) expect(r.status).toBe(201);
    const all = results.flatMap((r) => r.body.seats.map((s: { id: number }) => s.id));
    expect(new Set(all).size).toBe(24);
    const held = await env.db('event_seats').where({ event_id: ev.eventId, status: 'held' }).select('seat_id', 'hold_id');
    expect(held).toHaveLength(24);
    expect(new Set(held.map((h) => h.hold_id)).size).toBe(12);
    // Every block is two adjacent seats in one row.
    const seats = new Map((await env.db('seats').whereIn('id', all).select('id', 'row_label', 'number')).map((s) => [s.id, s]));
    for (const r of results) {
      const [x, y] = r.body.seats.map((s: { id: number }) => seats.get(s.id)!);
      expect(x.row_label).toBe(y.row_label);
      expect(Math.abs(x.number - y.number)).toBe(1);
    }
  });
});
