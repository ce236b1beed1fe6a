import type { EventLoopUtilization } from 'node:perf_hooks';
import { busyShare, MachineProbe, parseProcStat } from '../../load/machine-probe';

/** load/machine-probe.ts: the machine's busy cores and the buyers' thread timer delays, as the flash sale reports them. */
describe('load generator: machine probe', () => {
  it('When /proc/stat is read twice, then the busy share is the non-idle part of the jiffies between them', () => {
    const a = parseProcStat('cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\nintr 1 2 3\n');
    const b = parseProcStat('cpu  250 0 100 850 100 0 0 0 0 0\ncpu0 1 1 1 1 1 0 0 0 0 0\n');
    expect(a).toEqual({ total: 1000, idle: 850 });
    expect(b).toEqual({ total: 1300, idle: 950 });
    // 300 jiffies passed, 100 of them idle or waiting on I/O.
    expect(busyShare(a!, b!)).toBeCloseTo(2 / 3, 5);
    expect(busyShare(a!, a!)).toBe(0);
  });

  it('When the text has no aggregate cpu line, then there is no reading', () => {
    expect(parseProcStat('cpu0 1 2 3 4 5\n')).toBeUndefined();
    expect(parseProcStat('cpu  a b c d e\n')).toBeUndefined();
  });

  it('When the probe reads, then each reading covers the time since the last, with the machine and the thread in it', () => {
    jest.useFakeTimers();
    try {
      let clock = 0;
      const stats = [
        { total: 1000, idle: 800 },
        { total: 1100, idle: 850 }, // 50% busy
        { total: 1300, idle: 850 }, // all busy
      ];
      const readings: [number, number, number | undefined, number][] = [];
      const elu = (since?: EventLoopUtilization) => ({ idle: 0, active: clock, utilization: since ? 0.8 : 0 });
      const probe = new MachineProbe((from, to, cores, thread) => readings.push([from, to, cores, thread]), () => clock, elu, () => stats.shift());
      probe.start();
      clock = 250;
      jest.advanceTimersByTime(250);
      clock = 1250; // the thread was busy and read a second late
      jest.advanceTimersByTime(250);
      probe.stop();
      jest.advanceTimersByTime(1000);
      expect(readings).toEqual([
        [0, 250, 0.5 * probe.cores, 0.8],
        [250, 1250, probe.cores, 0.8],
      ]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('When the machine has no /proc/stat, then readings carry the thread alone', () => {
    jest.useFakeTimers();
    try {
      const readings: unknown[][] = [];
      const probe = new MachineProbe((...r) => readings.push(r), () => 0, () => ({ idle: 0, active: 0, utilization: 0.5 }), () => undefined);
      probe.start();
      jest.advanceTimersByTime(250);
      probe.stop();
      expect(readings).toEqual([[0, 0, undefined, 0.5, undefined]]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('When the probe reads threads, then each reading carries what each group ran and waited since the last', () => {
    jest.useFakeTimers();
    try {
      let clock = 0;
      const threads = [
        { nodes: { runNs: 1e9, waitNs: 2e8 }, buyers: { runNs: 5e8, waitNs: 0 } },
        { nodes: { runNs: 1.2e9, waitNs: 2.5e8 }, buyers: { runNs: 6e8, waitNs: 1e8 }, database: { runNs: 7, waitNs: 0 } },
        { nodes: { runNs: 1.3e9, waitNs: 3e8 }, buyers: { runNs: 6e8, waitNs: 1e8 }, database: { runNs: 9, waitNs: 1 } },
      ];
      const readings: unknown[] = [];
      const elu = () => ({ idle: 0, active: 0, utilization: 0 });
      const probe = new MachineProbe((...r) => readings.push(r[4]), () => clock, elu, () => undefined, () => threads.shift()!);
      probe.start();
      clock = 250;
      jest.advanceTimersByTime(500);
      probe.stop();
      expect(readings).toEqual([
        // The database appeared in the second reading only: it has no change until both readings have it.
        { nodes: { runNs: 2e8, waitNs: 5e7 }, buyers: { runNs: 1e8, waitNs: 1e8 } },
        { nodes: { runNs: 1e8, waitNs: 5e7 }, buyers: { runNs: 0, waitNs: 0 }, database: { runNs: 2, waitNs: 1 } },
      ]);
    } finally {
      jest.useRealTimers();
    }
  });
});
