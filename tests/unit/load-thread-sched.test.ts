import { parseSchedstat, schedDelta, schedReader } from '../../load/thread-sched';

/** load/thread-sched.ts: threads' time on a core and waiting for one, as the flash sale reports them. */
describe('load generator: threads on and waiting for a core', () => {
  it('When a schedstat line is read, then it gives the nanoseconds run and waited', () => {
    expect(parseSchedstat('547235346 145470929 380\n')).toEqual({ runNs: 547235346, waitNs: 145470929 });
    expect(parseSchedstat('')).toBeUndefined();
    expect(parseSchedstat('12')).toBeUndefined();
    expect(parseSchedstat('a b c')).toBeUndefined();
  });

  it('When two readings are compared, then each group present in both gives its change, never below zero', () => {
    const a = { nodes: { runNs: 100, waitNs: 50 }, buyers: { runNs: 10, waitNs: 5 }, helpers: { runNs: 90, waitNs: 9 } };
    // Helpers summed over threads can shrink when one ends between readings: that is no negative time.
    const b = { nodes: { runNs: 160, waitNs: 80 }, buyers: { runNs: 10, waitNs: 5 }, helpers: { runNs: 40, waitNs: 9 }, redis: { runNs: 1, waitNs: 1 } };
    expect(schedDelta(a, b)).toEqual({ nodes: { runNs: 60, waitNs: 30 }, buyers: { runNs: 0, waitNs: 0 }, helpers: { runNs: 0, waitNs: 0 } });
  });

  it('When this thread works, then the reader sees its own time on a core grow, and the nodes only where asked', () => {
    const read = schedReader(false);
    expect(read).toBeDefined(); // this suite runs on Linux, where /proc/thread-self is
    const before = read!();
    const until = performance.now() + 60;
    let spins = 0;
    while (performance.now() < until) spins++;
    const after = read!();
    expect(spins).toBeGreaterThan(0);
    expect(before.nodes).toBeUndefined();
    const ran = schedDelta(before, after).buyers!;
    // 60 ms of spinning: most of it on a core, the rest waiting for one (a shared machine), all of it counted.
    expect(ran.runNs + ran.waitNs).toBeGreaterThan(40e6);
    expect(ran.runNs).toBeGreaterThan(5e6);
    expect(after.helpers).toBeDefined(); // a Node process always has helper threads (V8's platform, libuv)
    expect(schedReader(true)!().nodes).toEqual(expect.objectContaining({ runNs: expect.any(Number) }));
  });
});
