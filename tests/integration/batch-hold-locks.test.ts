import mysql from 'mysql2/promise';
import { loadBatchState } from '../../server/inventory/batch-read';
import { describeEach, mysqlDialects } from '../helpers/dialects';
import { actorOf, createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';
import { lockWaitBefore } from '../helpers/mysql';
import { until } from '../helpers/sockets';

const TTL_SECONDS = 60;
/** Holds of the event that lapsed and were expired; the batch names NAMED of them (a sweep overtaken by another). */
const GONE = 100;
const NAMED = 24;
/** Holds a batch of bookings or releases names by token: more than the optimizer reads by the token index. */
const MANY = 150;
const ER_LOCK_WAIT_TIMEOUT = 1205; // what MariaDB answers a NOWAIT read that meets a lock

/**
 * A batch reads the holds its commands name locked, and must lock (and wait for) no other hold: another node's
 * batch may hold that one, and waiting for it while holding one the other wants is a deadlock. Both cases below
 * were deadlocks in flash sales, and in both the optimizer chose the path that reads other holds:
 *
 * - **Lapsed holds** (SKIP LOCKED: one another node is expiring is not this batch's). The sweeper's list can name
 *   many holds of which few are still active (another node's sweep expired the rest since); the optimizer then read
 *   them through the (status, expires_at) index, and that read kept locks on the index's entries of other lapsed
 *   holds it did not return, of any event, which another node's sweep was about to expire.
 * - **Holds named by token** (bookings, releases, extends). For a long list of tokens the optimizer scanned the
 *   whole table, and a locking scan waits for every hold another batch has locked.
 */
describeEach(mysqlDialects(), 'the holds a batch locks on %s', (dialect) => {
  let env: TestEnv;
  let probe: mysql.Connection;
  beforeAll(async () => {
    env = await startTestEnv({ dialect, sweeper: false });
    probe = await mysql.createConnection({ uri: env.config.database.client === 'mysql2' ? env.config.database.url : '' });
    await probe.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
  });
  afterAll(async () => {
    await probe.end();
    await env.stop();
  });

  /**
   * Whether another transaction holds a lock on the (status, expires_at) index entry of `hold`. The entry's whole key
   * (status, expires_at and, inside InnoDB, id) is given, so the probe reads that entry alone.
   */
  async function entryLocked(hold: { id: number; expires_at: number }): Promise<boolean> {
    await probe.beginTransaction();
    try {
      await probe.query("SELECT id FROM holds FORCE INDEX (holds_status_expires_at_index) WHERE status = 'active' AND expires_at = ? AND id = ? FOR UPDATE NOWAIT", [hold.expires_at, hold.id]);
      return false;
    } catch (err) {
      if ((err as { errno?: number }).errno === ER_LOCK_WAIT_TIMEOUT) return true;
      throw err;
    } finally {
      await probe.rollback();
    }
  }

  it('When the lapsed holds it names are mostly expired already, then it locks no other lapsed hold, of its event or another', async () => {
    const inv = env.nodes[0]!.services.inventory;
    const ours = await seedEvent(env, { rows: 7, seatsPerRow: 50, holdTtlSeconds: TTL_SECONDS });
    const other = await seedEvent(env, { rows: 1, seatsPerRow: 2, holdTtlSeconds: TTL_SECONDS });
    const buyers = (await createUsers(env, GONE + 3)).map((u) => actorOf(u));
    // Holds that lapse and are expired (as another node's sweep would have done before this batch runs).
    const gone = await Promise.all(buyers.slice(0, GONE).map((b, i) => inv.hold(b, ours.eventId, { seatIds: [ours.seatIds[i]!] })));
    env.clock.advance(TTL_SECONDS * 1000 + 1);
    expect(await inv.sweep(1000)).toBe(GONE);
    // Then three that lapse and stay active: one the batch names, one of its event it does not, one of another event.
    const named = await inv.hold(buyers[GONE]!, ours.eventId, { seatIds: [ours.seatIds[GONE]!] });
    const unnamed = await inv.hold(buyers[GONE + 1]!, ours.eventId, { seatIds: [ours.seatIds[GONE + 1]!] });
    const elsewhere = await inv.hold(buyers[GONE + 2]!, other.eventId, { seatIds: [other.seatIds[0]!] });
    env.clock.advance(TTL_SECONDS * 1000 + 1);
    const ids = [...gone.slice(0, NAMED), named].map((h) => h.hold.id);
    const now = env.clock.now();

    // Wait until InnoDB has purged the index entries the sweep left behind: until then the optimizer counts them and
    // reads by primary key anyway. A table that has sold for a while looks like this.
    const unforced = `SELECT * FROM holds WHERE id IN (${ids.join(',')}) AND event_id = ${ours.eventId} AND status = 'active' AND expires_at <= ${now} ORDER BY id FOR UPDATE SKIP LOCKED`;
    const picks = async () => ((await env.db.raw(`EXPLAIN ${unforced}`)) as [{ key: string }[]])[0][0]!.key;
    let polls = 0;
    const picksTheIndex = async () => {
      if (polls++ % 10 === 0) await env.db.raw('ANALYZE TABLE holds'); // the statistics, read again now and then
      return (await picks()) === 'holds_status_expires_at_index';
    };
    await until(picksTheIndex, 30_000, 'the optimizer to read lapsed holds through (status, expires_at)');

    await env.db.transaction(async (trx) => {
      const state = await loadBatchState(trx, ours.eventId, [{ kind: 'expire', holdIds: ids }], now);
      expect([...state.holdsById.keys()]).toEqual([named.hold.id]);
      // The batch's transaction is open, its reads done: which other holds' entries does it keep locked?
      expect(await entryLocked(unnamed.hold)).toBe(false);
      expect(await entryLocked(elsewhere.hold)).toBe(false);
      expect(await entryLocked(named.hold)).toBe(true); // the probe does see a lock: the one the batch took
    });
  });

  it('When it names many holds by token, then it waits for no other hold another transaction has locked', async () => {
    const inv = env.nodes[0]!.services.inventory;
    const ev = await seedEvent(env, { rows: 4, seatsPerRow: 50 });
    const buyers = (await createUsers(env, MANY + 1)).map((u) => actorOf(u));
    const holds = await Promise.all(buyers.map((b, i) => inv.hold(b, ev.eventId, { seatIds: [ev.seatIds[i]!] })));
    const [locked, ...named] = holds as [(typeof holds)[number], ...typeof holds];
    const releases = named.map((h, i) => ({ kind: 'release' as const, actor: buyers[i + 1]!, holdToken: h.hold.token }));
    // The precondition: left to itself, the optimizer would scan the table for this list of tokens.
    const tokens = named.map((h) => `'${h.hold.token}'`).join(',');
    await env.db.raw('ANALYZE TABLE holds');
    const [[plan]] = (await env.db.raw(`EXPLAIN SELECT * FROM holds WHERE event_id = ${ev.eventId} AND token IN (${tokens}) ORDER BY id FOR UPDATE`)) as [{ key: string }[]];
    expect(plan!.key).not.toBe('holds_token_unique');

    // Another transaction (another node's batch, say) has the one hold the batch does not name locked.
    await probe.beginTransaction();
    await probe.query('SELECT id FROM holds WHERE id = ? FOR UPDATE', [locked.hold.id]);
    const read = env.db.transaction((trx) => loadBatchState(trx, ev.eventId, releases, env.clock.now()));
    // Until the batch's reads are done, look for a lock wait (one that waited would wait until this rollback).
    const waited = await lockWaitBefore(probe, read);
    await probe.rollback();
    const state = await read;

    expect(waited).toBe(false);
    expect(state.holdsByToken.size).toBe(MANY);
  });
});
