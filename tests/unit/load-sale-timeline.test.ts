import { BuyerStats } from '../../load/buyer-stats';
import { deserializeStats, serializeStats } from '../../load/client-worker';
import type { Figure } from '../../load/report';
import { rushAckFigures, SaleTimeline } from '../../load/sale-timeline';
import { Latency } from '../../load/stats';

/** The flash sale second by second (load/sale-timeline.ts): which second a hold ack belongs to, and the figures. */
describe('load generator: the sale second by second', () => {
  it('When holds are sent in different seconds, then each second has its own p99 and the figures split the opening from the rest', () => {
    const t = new SaleTimeline();
    for (let i = 0; i < 100; i++) t.recordHoldAck(0.5, 1000 + i); // the opening burst: slow
    for (let i = 0; i < 100; i++) t.recordHoldAck(3.2, 100 + i); // later: fast
    t.recordHoldAck(-0.001, 5); // a clock a hair early still lands in the first second
    for (let i = 0; i < 30; i++) t.recordBatch(0.9);
    for (let i = 0; i < 4; i++) t.recordBatch(3.5);

    const seconds = t.seconds(10);
    expect(seconds.map((s) => [s.second, s.holdAcks, s.batchesPerBuyer])).toEqual([
      [0, 101, 3],
      [3, 100, 0.4],
    ]);
    expect(seconds[0]!.p99).toBeGreaterThanOrEqual(1090);
    expect(seconds[1]!.p99).toBeLessThan(200);

    const f: Figure[] = [];
    t.figures(f, 10);
    const value = (name: string) => f.find((x) => x.name.startsWith(name))?.value;
    expect(value('hold ack p99, holds sent in the first second')).toBeGreaterThanOrEqual(1090);
    expect(value('hold ack p99, holds sent after the first second')).toBeLessThan(200);
    expect(value('seats:changed batches received per buyer, busiest second')).toBe(3);
  });

  it('When a client thread sends its stats over, then the timeline arrives whole', () => {
    const s = new BuyerStats();
    s.marks.firstHoldAt = 0;
    s.timeline.recordHoldAck(2.5, 40);
    s.timeline.recordHoldAck(2.7, 60);
    s.timeline.recordBatch(1.1);

    const back = deserializeStats(JSON.parse(JSON.stringify(serializeStats(s))));
    expect(back.timeline.seconds(1).map((x) => [x.second, x.holdAcks, x.batchesPerBuyer])).toEqual([
      [1, 0, 1],
      [2, 2, 0],
    ]);
  });

  it('When the probe saw the machine and the buyers thread, then each second and the rush figures carry it', () => {
    const t = new SaleTimeline();
    t.recordHoldAck(0.2, 900);
    t.recordHoldAck(6.5, 90);
    t.recordLoad(-0.25, 0.5, 2, 1, 2); // the part before the sale is left out
    t.recordLoad(0.5, 1.0, 1, 0.5, 2); // second 0: 1.5 cores, thread busy 75% of it
    // A busy thread read late: one reading over three seconds counts in each by its overlap.
    t.recordLoad(1.0, 4.0, 1.8, 1, 2);
    t.recordLoad(6.25, 6.5, 0.5, 0.2, 2);

    const back = new SaleTimeline();
    back.merge(JSON.parse(JSON.stringify(t.encode())));
    for (let i = 0; i < 4; i++) back.recordBatch(i + 0.5); // seconds with a batch received are reported too
    expect(back.seconds(1).map((s) => [s.second, s.busyCores, s.buyersThreadBusy])).toEqual([
      [0, 1.5, 0.75],
      [1, 1.8, 1],
      [2, 1.8, 1],
      [3, 1.8, 1],
      [6, 0.5, 0.2],
    ]);
    const f: Figure[] = [];
    back.figures(f, 1, { busyCores: 1.9, threadBusyPct: 80 });
    // Only the rush (the first 5 s) counts in the figures: second 6 is left out of both. The bare ack-echo's
    // readings at the rush rate are their baselines.
    expect(f.find((x) => x.name.startsWith('machine cores busy, first 5 s'))).toMatchObject({ value: 1.73, unit: 'cores', baseline: 1.9 });
    expect(f.find((x) => x.name.startsWith('machine cores busy'))!.name).toContain('of 2');
    expect(f.find((x) => x.name.startsWith("buyers' thread busy, first 5 s"))).toMatchObject({ value: 94, unit: '%', baseline: 80 });
  });

  it('When the probe read the threads, then each second and the rush figures carry their time on and waiting for a core', () => {
    const t = new SaleTimeline();
    t.recordHoldAck(0.2, 900);
    const ms = (run: number, wait: number) => ({ runNs: run * 1e6, waitNs: wait * 1e6 });
    // Over [0, 1]: the nodes ran 600 ms and waited 300, the buyers ran 500 and waited 400, MariaDB ran 300.
    t.recordLoad(0, 1, 2, 1, 2, { nodes: ms(600, 300), buyers: ms(500, 400), database: ms(300, 0) });
    // One reading over [1, 3], split by overlap: each second gets half of it.
    t.recordLoad(1, 3, 2, 1, 2, { nodes: ms(1600, 800), buyers: ms(1000, 600), helpers: ms(400, 400) });
    t.recordLoad(7, 8, 1, 0.1, 2, { nodes: ms(50, 0) }); // after the rush: in its second, not in the figures

    const back = new SaleTimeline();
    back.merge(JSON.parse(JSON.stringify(t.encode())));
    for (const at of [1.5, 2.5, 7.5]) back.recordBatch(at); // seconds with something received are reported
    const seconds = back.seconds(1);
    expect(seconds.map((s) => s.second)).toEqual([0, 1, 2, 7]);
    expect(seconds[0]!.sched).toEqual({ nodes: { run: 0.6, wait: 0.3 }, buyers: { run: 0.5, wait: 0.4 }, database: { run: 0.3, wait: 0 } });
    expect(seconds[1]!.sched).toEqual({ nodes: { run: 0.8, wait: 0.4 }, buyers: { run: 0.5, wait: 0.3 }, helpers: { run: 0.2, wait: 0.2 } });
    expect(seconds[3]!.sched).toEqual({ nodes: { run: 0.05, wait: 0 } });

    const f: Figure[] = [];
    back.figures(f, 1);
    const named = (start: string) => f.find((x) => x.name.startsWith(start));
    // Seconds 0-2: the nodes waited 300 + 400 + 400 ms of 3 s, on a core 600 + 800 + 800.
    expect(named("nodes' thread waiting for a core, first 5 s")).toMatchObject({ value: 37, unit: '%' });
    expect(named("nodes' thread on a core, first 5 s")).toMatchObject({ value: 73, unit: '%' });
    expect(named("buyers' thread waiting for a core, first 5 s")).toMatchObject({ value: 33, unit: '%' });
    expect(named("buyers' thread on a core, first 5 s")).toMatchObject({ value: 50, unit: '%' }); // 500 + 1000 of 3,000 ms
    // Everything on a core or waiting, over the 3 s read: (900 + 900 + 300 + 2400 + 1600 + 800) / 3000 ms.
    expect(named('cores wanted, first 5 s')).toMatchObject({ value: 2.3, unit: 'cores', baseline: 2, ratio: 1.15 });
  });

  it('When no probe ran (an older client), then the seconds and figures leave the machine out', () => {
    const t = new SaleTimeline();
    t.recordHoldAck(0.2, 900);
    const f: Figure[] = [];
    t.figures(f, 1);
    expect(t.seconds(1)[0]).not.toHaveProperty('busyCores');
    expect(t.seconds(1)[0]).not.toHaveProperty('sched');
    expect(f.some((x) => x.name.startsWith('machine cores busy') || x.name.startsWith("buyers' thread") || x.name.startsWith('cores wanted'))).toBe(false);
  });

  it('When bookings are sent in different seconds, then each second and the figures split the opening from the rest, across threads too', () => {
    const t = new SaleTimeline();
    for (let i = 0; i < 50; i++) t.recordBookingAck(0.7, 600 + i); // booked in the opening second: slow
    for (let i = 0; i < 50; i++) t.recordBookingAck(2.4, 100 + i); // later: fast
    t.recordHoldAck(0.1, 300);
    const back = new SaleTimeline();
    back.merge(t.encode());

    const seconds = back.seconds(1);
    expect(seconds.map((s) => [s.second, s.holdAcks, s.bookingAcks])).toEqual([
      [0, 1, 50],
      [2, 0, 50],
    ]);
    expect(seconds[0]!.bookingP99).toBeGreaterThanOrEqual(640);
    expect(seconds[1]!.bookingP99).toBeLessThan(160);
    const f: Figure[] = [];
    back.figures(f, 1);
    const value = (name: string) => f.find((x) => x.name === name)?.value;
    expect(value('booking ack p99, bookings sent in the first second of the sale')).toBeGreaterThanOrEqual(640);
    expect(value('booking ack p99, bookings sent after the first second')).toBeLessThan(160);
  });

  it('When a client thread sends no booking timeline (an older client), then the seconds have no booking fields', () => {
    const t = new SaleTimeline();
    t.recordHoldAck(0.2, 900);
    const { bookingAck: _dropped, ...older } = t.encode();
    const back = new SaleTimeline();
    back.merge(older);
    expect(back.seconds(1)[0]).not.toHaveProperty('bookingAcks');
    const f: Figure[] = [];
    back.figures(f, 1);
    expect(f.some((x) => x.name.startsWith('booking ack p99'))).toBe(false);
  });

  it('When the echo ran at the rush rate, then holds and bookings are each read against its p99', () => {
    const [hold, booking] = [new Latency(), new Latency()];
    for (let i = 1; i <= 100; i++) hold.recordMs(10 * i); // p99 990 ms
    for (let i = 1; i <= 100; i++) booking.recordMs(5 * i); // p99 495 ms
    const f: Figure[] = [];
    rushAckFigures(f, { hold, booking }, { latency: { p99: 450 }, batchesPerClientPerS: 5 }, 5.5);
    const rush = (kind: string) => f.find((x) => x.name === `${kind} ack p99 (baseline: bare ack-echo at the busiest second's broadcast rate)`);
    expect(rush('hold')).toMatchObject({ baseline: 450, ratio: 2.2 });
    expect(rush('hold')!.value).toBeCloseTo(990, -1);
    expect(rush('booking')).toMatchObject({ baseline: 450, ratio: 1.1 });
    expect(rush('booking')!.value).toBeCloseTo(495, -1);
    expect(f.find((x) => x.name.startsWith('seats:changed batches per client per second, bare ack-echo'))).toMatchObject({ value: 5, baseline: 5.5 });
  });

  it('When no booking was answered, then there is no booking row to read against the echo', () => {
    const hold = new Latency();
    hold.recordMs(100);
    const f: Figure[] = [];
    rushAckFigures(f, { hold, booking: new Latency() }, { latency: { p99: 50 }, batchesPerClientPerS: 1 }, 1);
    expect(f.map((x) => x.name.split(' ')[0])).toEqual(['hold', 'seats:changed']);
  });
});
