import type { SeatCommand } from '../../server/inventory/commands';
import { GroupCommit, type Pending } from '../../server/inventory/group-commit';
import type { AuthUser } from '../../server/shared/auth-user';

/**
 * Batches in flight per event (inventory/group-commit.ts, maxInFlight): past the first, a batch is cut only once
 * the batch ahead has decided (its writes are leaving), never while one is deciding, and never more than
 * maxInFlight at once; a command whose buyer has one in a batch in flight waits for that batch. Batches are driven
 * by hand: no database, no sleeps.
 */
const buyer = (id: number) => ({ id, role: 'user' }) as AuthUser;
/** A hold of one seat by a buyer of its own (the seat's number), unless `by` names one. */
const hold = (seat: number, by = seat): SeatCommand => ({ kind: 'hold', actor: buyer(by), seatIds: [seat] });
const release = (by: number): SeatCommand => ({ kind: 'release', actor: buyer(by), holdToken: `t${by}` });

interface Running {
  seats: number[];
  decide(): void;
  finish(): void;
}

function harness(maxInFlight: number | undefined) {
  const started: Running[] = [];
  let inFlight = 0;
  let most = 0;
  const gc = new GroupCommit<string>({ maxCommands: 100, maxSeats: 1000, maxQueuedHolds: 0, maxQueueWaitMs: 0, maxInFlight }, (_eventId, batch: Pending<string>[], decided) => {
    inFlight++;
    most = Math.max(most, inFlight);
    return new Promise<void>((resolve) => {
      started.push({
        seats: batch.map((p) => (p.cmd.kind === 'hold' ? p.cmd.seatIds[0]! : -1)), // -1: a release
        decide: decided,
        finish: () => {
          inFlight--;
          for (const p of batch) p.resolve('ok');
          resolve();
        },
      });
    });
  });
  /** Lets every pending cut happen (a cut waits one turn of the event loop). */
  const turns = async (n = 3) => {
    for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
  };
  return { gc, started, turns, most: () => most };
}

describe('group commit: batches in flight per event', () => {
  it('When the batch ahead has decided, then the next is cut at once with what queued meanwhile; not while it decides', async () => {
    const { gc, started, turns } = harness(2);
    const a = gc.submit(1, hold(1))!;
    await turns();
    expect(started.map((b) => b.seats)).toEqual([[1]]);
    const b = gc.submit(1, hold(2))!;
    const c = gc.submit(1, hold(3))!;
    await turns();
    expect(started).toHaveLength(1); // the first is still reading and deciding
    started[0]!.decide();
    await turns();
    expect(started.map((x) => x.seats)).toEqual([[1], [2, 3]]);
    // The second finishes first (no rows in common): its commands are answered without waiting for the first.
    started[1]!.finish();
    await expect(Promise.all([b, c])).resolves.toEqual(['ok', 'ok']);
    started[0]!.finish();
    await expect(a).resolves.toBe('ok');
    expect(gc.busy()).toBe(false);
  });

  it('When maxInFlight batches are in flight, then the next waits for one to finish, even if all have decided', async () => {
    const { gc, started, turns, most } = harness(2);
    const all = [gc.submit(1, hold(1))!];
    await turns();
    all.push(gc.submit(1, hold(2))!);
    started[0]!.decide();
    await turns();
    all.push(gc.submit(1, hold(3))!);
    started[1]!.decide();
    await turns();
    expect(started).toHaveLength(2);
    started[0]!.finish();
    await turns();
    expect(started.map((x) => x.seats)).toEqual([[1], [2], [3]]);
    started[1]!.finish();
    started[2]!.finish();
    await Promise.all(all);
    expect(most()).toBe(2);
  });

  it('When maxInFlight is 1 (the default), then a decided batch still holds the lane until it finishes', async () => {
    const { gc, started, turns, most } = harness(undefined);
    const all = [gc.submit(1, hold(1))!];
    await turns();
    all.push(gc.submit(1, hold(2))!);
    started[0]!.decide();
    await turns();
    expect(started).toHaveLength(1);
    started[0]!.finish();
    await turns();
    expect(started).toHaveLength(2);
    started[1]!.finish();
    await Promise.all(all);
    expect(most()).toBe(1);
  });

  it('When a batch decides twice (a retried transaction), then only the first call lets the next batch in', async () => {
    const { gc, started, turns, most } = harness(3);
    const all = [gc.submit(1, hold(1))!];
    await turns();
    all.push(gc.submit(1, hold(2))!);
    started[0]!.decide();
    await turns();
    all.push(gc.submit(1, hold(3))!);
    started[0]!.decide(); // its retry decided again, while the second batch is still deciding: nothing more starts
    await turns();
    expect(started.map((x) => x.seats)).toEqual([[1], [2]]);
    started[1]!.decide();
    await turns();
    expect(started.map((x) => x.seats)).toEqual([[1], [2], [3]]);
    for (const b of started) b.finish();
    await Promise.all(all);
    expect(most()).toBe(3);
  });

  it("When a buyer's command is in a batch in flight, then their next waits for that batch to finish; other buyers' do not", async () => {
    const { gc, started, turns } = harness(2);
    const first = [gc.submit(1, release(7))!, gc.submit(1, hold(1))!];
    await turns();
    expect(started.map((b) => b.seats)).toEqual([[-1, 1]]);
    // Buyer 7 holds again at once (after releasing, without waiting); buyer 2 holds too.
    const again = gc.submit(1, hold(70, 7))!;
    const other = gc.submit(1, hold(2))!;
    started[0]!.decide();
    await turns();
    expect(started.map((b) => b.seats)).toEqual([[-1, 1], [2]]); // buyer 7's hold stays queued
    expect(gc.queued(1)).toBe(1);
    started[1]!.finish();
    await other;
    await turns();
    expect(started).toHaveLength(2); // still: buyer 7's release has not finished
    started[0]!.finish();
    await Promise.all(first);
    await turns();
    expect(started.map((b) => b.seats)).toEqual([[-1, 1], [2], [70]]);
    started[2]!.finish();
    await expect(again).resolves.toBe('ok');
    expect(gc.busy()).toBe(false);
  });
});
