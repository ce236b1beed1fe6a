import mysql from 'mysql2/promise';
import { describeEach, mysqlDialects } from '../helpers/dialects';
import { createMysqlDatabase } from '../helpers/mysql';
import { baselinePool } from '../../load/baseline-pool';
import { groupBatcher, groupTxBaseline } from '../../load/baselines-group-tx';
import { groupSocketBaseline } from '../../load/baselines-group-socket';
import { holdTables } from '../../load/baselines-hold-tx';

/**
 * The raw group-commit baselines of hot-seat (load/baselines-group-tx.ts, load/baselines-group-socket.ts) on a real
 * MariaDB: they decide what they are asked, batch what arrives together, cut as their policy says, and leave no
 * scratch table behind. Their figures are bounds Evently is measured against, so a baseline that decided wrongly
 * or never batched would make those bounds lie.
 */
describeEach(mysqlDialects(), 'load generator: raw group-commit baselines (%s)', () => {
  let created: Awaited<ReturnType<typeof createMysqlDatabase>>;
  beforeAll(async () => {
    created = await createMysqlDatabase();
  });
  afterAll(async () => {
    await created.drop();
  });

  const scratchTables = async () => {
    const conn = await mysql.createConnection({ uri: created.url });
    const [tables] = await conn.query("SHOW TABLES LIKE 'load_holdtx_%'");
    await conn.end();
    return tables;
  };

  it('When closed loops race for a few seats, then holds win or find the seat taken, won holds are released, and batches hold several commands', async () => {
    const r = await groupTxBaseline(created.url, { concurrency: 6, rows: 2, durationMs: 300 });
    expect(r.attempts).toBeGreaterThan(0);
    // More wins than seats: every won hold was released again.
    expect(r.successes).toBeGreaterThan(2);
    expect(r.successes).toBeLessThan(r.attempts);
    // In-process loops are all queued again before the next cut.
    expect(r.commandsPerBatch).toBeGreaterThan(1);
    expect(await scratchTables()).toEqual([]);
  });

  it('When two holds of one seat and a third command are submitted, then they are decided in arrival order, and a gathering cut waits for the third', async () => {
    const pool = baselinePool(created.url, 1, { multipleStatements: true });
    // A batcher numbers its holds itself: each gets tables of its own (holdTables drops and recreates them).
    let tables = await holdTables(pool, 2);
    try {
      // Cut at once: the two submitted together make one batch, the one submitted turns of the loop later another.
      const atOnce = groupBatcher(pool, tables);
      const first = [atOnce.submit({ kind: 'hold', userId: 1, seatId: 1 }), atOnce.submit({ kind: 'hold', userId: 2, seatId: 1 })];
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
      const late = atOnce.submit({ kind: 'hold', userId: 3, seatId: 2 });
      const [won, lost, other] = await Promise.all([...first, late]);
      expect(won).toEqual(expect.any(Number));
      expect(lost).toBeUndefined();
      expect(other).toEqual(expect.any(Number));
      expect(atOnce.counts()).toMatchObject({ batches: 2, decided: 3 });
      // The seat's holder releases it; a release of a hold no longer on the seat answers undefined.
      expect(await atOnce.submit({ kind: 'release', seatId: 1, holdId: won! })).toBe(won);
      expect(await atOnce.submit({ kind: 'release', seatId: 1, holdId: won! })).toBeUndefined();

      // Gathering for three: the late command joins the first two in one batch, decided after them.
      tables = await holdTables(pool, 2);
      const gathering = groupBatcher(pool, tables, { gather: { commands: 3, maxWaitMs: 10_000 } });
      const early = [gathering.submit({ kind: 'hold', userId: 1, seatId: 1 }), gathering.submit({ kind: 'hold', userId: 2, seatId: 2 })];
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
      expect(gathering.counts().batches).toBe(0);
      const third = gathering.submit({ kind: 'hold', userId: 3, seatId: 2 });
      const answers = await Promise.all([...early, third]);
      expect(answers[0]).toEqual(expect.any(Number));
      expect(answers[1]).toEqual(expect.any(Number));
      expect(answers[2]).toBeUndefined();
      expect(gathering.counts()).toMatchObject({ batches: 1, decided: 3 });

      // A gathering cut that does not get its commands still cuts when its wait is over.
      tables = await holdTables(pool, 2);
      const patient = groupBatcher(pool, tables, { gather: { commands: 5, maxWaitMs: 20 } });
      expect(await patient.submit({ kind: 'hold', userId: 3, seatId: 1 })).toEqual(expect.any(Number));
      expect(patient.counts()).toMatchObject({ batches: 1, decided: 1 });
    } finally {
      await tables.drop();
      await pool.end();
    }
  });

  it.each(['at once', 'all contenders'] as const)(
    'When contenders race over sockets to a bare server cutting %s, then every hold is answered, won holds are released, and the scratch tables go',
    async (cut) => {
      const r = await groupSocketBaseline(created.url, { concurrency: 6, rows: 2, durationMs: 400, connectConcurrency: 6, cut });
      expect(r.contenders).toBe(6);
      expect(r.timeouts).toBe(0);
      expect(r.attempts).toBeGreaterThan(0);
      expect(r.successes).toBeGreaterThan(2);
      expect(r.successes).toBeLessThan(r.attempts);
      expect(r.commandsPerBatch).toBeGreaterThanOrEqual(1);
      expect(r.commandsPerBatch).toBeLessThanOrEqual(6);
      // Gathering for every contender's command: batches of more than one.
      if (cut === 'all contenders') expect(r.commandsPerBatch).toBeGreaterThan(1);
      expect(await scratchTables()).toEqual([]);
    },
  );
});
