import { BuyerStats } from '../../load/buyer-stats';
import { deserializeStats, serializeStats } from '../../load/client-worker';
import type { Figure } from '../../load/report';
import { SaleTimeline } from '../../load/sale-timeline';

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
});
