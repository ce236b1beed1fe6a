/**
 * The raw group commit behind a bare Socket.IO server: the least a socket seat server that group-commits holds can
 * do, so the bound for hot-seat's contenders on this machine when no server code runs but the issue's batches.
 *
 * hot-seat's contenders (as many closed loops as the phase had, over the buyers' own transport, in a client thread
 * as the buyers run: load/echo-client.ts, mode 'hold-release') send `seat:hold` of one random seat and, when they
 * win it, `seat:release`. A bare server (no authentication, validation, rules, broadcasts or Evently code) hands
 * each command to the raw group-commit batcher of load/baselines-group-tx.ts (one batch in flight, on bare mysql2,
 * over scratch tables) and acks its answer. Two ways to cut a batch:
 *
 * - 'at once': one turn of the event loop after the batch ahead committed, as an Evently node cuts;
 * - 'all contenders': it waits (at most GATHER_MAX_MS) until every contender's next command is queued, so each batch
 *   holds every command there can be. No server can know that: it is the cut that makes batches fullest.
 *
 * The better of the two is what group commit behind sockets reaches here with nothing else to do.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { SEAT_BATCH_DEFAULTS } from '../server/config';
import { baselinePool } from './baseline-pool';
import { groupBatcher, type CutPolicy } from './baselines-group-tx';
import { holdTables } from './baselines-hold-tx';
import { ECHO_EVENT_ID, type EchoDone, type EchoJob } from './echo-client';
import { Latency, round, sleep, type LatencySummary } from './stats';
import { ClientThread } from './workers';

/** The longest a gathering cut waits for the contenders' next commands (ms) after the batch ahead committed. */
const GATHER_MAX_MS = 5;

export type GroupSocketCut = 'at once' | 'all contenders';

/** What one arm measured (`details.phases[].groupSocketBaselines`). */
export interface GroupSocketResult {
  cut: GroupSocketCut;
  contenders: number;
  rows: number;
  seconds: number;
  /** Hold commands answered (won or seat taken), and those won; a won hold's release is a command, not an attempt. */
  attempts: number;
  successes: number;
  attemptsPerS: number;
  /** Emit -> ack of every command (holds and releases). */
  latency: LatencySummary;
  batches: number;
  commandsPerBatch: number;
  retries: number;
  timeouts: number;
}

/** One arm: scratch tables, the bare server on a loopback port, the contenders' closed loops for `durationMs`. */
export async function groupSocketBaseline(
  databaseUrl: string,
  o: { concurrency: number; rows: number; durationMs: number; connectConcurrency: number; cut: GroupSocketCut },
): Promise<GroupSocketResult> {
  const pool = baselinePool(databaseUrl, 1, { multipleStatements: true });
  const tables = await holdTables(pool, o.rows);
  const policy: CutPolicy = o.cut === 'all contenders' ? { gather: { commands: Math.min(o.concurrency, SEAT_BATCH_DEFAULTS.maxCommands), maxWaitMs: GATHER_MAX_MS } } : {};
  const batcher = groupBatcher(pool, tables, policy);
  let failure: unknown;
  const http = createServer();
  const io = new Server(http, { transports: ['websocket'], serveClient: false });
  let users = 0;
  /** The seat of each live hold, by its id (the token the contenders send back). */
  const seatOf = new Map<number, number>();
  const answer = (ack: unknown, run: () => Promise<unknown>) => {
    if (typeof ack !== 'function') return;
    run().then(
      (data) => ack(data === undefined ? { ok: false, error: { code: 'SEAT_UNAVAILABLE', message: 'taken' } } : { ok: true, data }),
      (err: unknown) => {
        failure ??= err;
        ack({ ok: false, error: { code: 'BASELINE_FAILED', message: String(err) } });
      },
    );
  };
  io.of(`/events/${ECHO_EVENT_ID}`).on('connection', (socket) => {
    const userId = ++users;
    socket.on('seat:hold', (payload: { seatIds?: number[] } | undefined, ack: unknown) =>
      answer(ack, async () => {
        const seatId = Number(payload?.seatIds?.[0]);
        const holdId = await batcher.submit({ kind: 'hold', userId, seatId });
        if (holdId === undefined) return undefined;
        seatOf.set(holdId, seatId);
        return { holdToken: String(holdId), seats: [{ id: seatId, status: 'held' }] };
      }),
    );
    socket.on('seat:release', (payload: { holdToken?: string } | undefined, ack: unknown) =>
      answer(ack, async () => {
        const holdId = Number(payload?.holdToken);
        const seatId = seatOf.get(holdId);
        seatOf.delete(holdId);
        if (seatId === undefined) return { released: [] };
        await batcher.submit({ kind: 'release', seatId, holdId });
        return { released: [seatId] };
      }),
    );
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const job: EchoJob = { kind: 'echo', mode: 'hold-release', url, clients: o.concurrency, seats: o.rows, seatsPerHold: 1, connectConcurrency: o.connectConcurrency, durationMs: o.durationMs, format: 'json' };
  const clients = new ClientThread(job);
  try {
    const { failures } = await clients.next<{ failures: number }>('connected');
    if (failures) throw new Error(`group commit behind sockets: ${failures} contenders could not connect`);
    await sleep(200);
    clients.send({ type: 'start' });
    const done = await clients.next<EchoDone>('done');
    if (failure) throw failure;
    const latency = new Latency();
    latency.merge(done.latency);
    const { batches, decided, retries } = batcher.counts();
    return {
      cut: o.cut,
      contenders: done.clients,
      rows: o.rows,
      seconds: round(done.seconds, 3),
      attempts: done.holds,
      successes: done.won,
      attemptsPerS: round(done.holds / done.seconds, 1),
      latency: latency.summary(),
      batches,
      commandsPerBatch: batches ? round(decided / batches, 2) : 0,
      retries,
      timeouts: done.timeouts,
    };
  } finally {
    await clients.stop();
    await io.close();
    await tables.drop();
    await pool.end();
  }
}
