import { BuyerStats, type SaleLog } from '../../load/buyer-stats';
import { deserializeStats, serializeStats } from '../../load/client-worker';
import { lapseFigures, soldOrLapsingAt, soldOrLapsingReached } from '../../load/lapse';
import type { Figure } from '../../load/report';

/** The sale figures that take out the seats buyers chose to let lapse (load/lapse.ts): pure arithmetic over a log. */
describe('load generator: seats sold or held to lapse', () => {
  it('When a hold is left to lapse, then its seats count until its expiry and not from that instant on', () => {
    const log: SaleLog = { booked: [[1000, 2], [2000, 2]], lapsing: [[1500, 2, 31_500]] };

    expect(soldOrLapsingAt(log, 999)).toEqual({ sold: 0, lapsing: 0 });
    expect(soldOrLapsingAt(log, 1500)).toEqual({ sold: 2, lapsing: 2 });
    expect(soldOrLapsingAt(log, 10_000)).toEqual({ sold: 4, lapsing: 2 });
    expect(soldOrLapsingAt(log, 31_500)).toEqual({ sold: 4, lapsing: 0 });
  });

  it('When the sum falls after a lapse expires, then the first crossing counts, and a sum never reached is undefined', () => {
    const log: SaleLog = { booked: [[1000, 2], [3000, 2]], lapsing: [[2000, 2, 2500]] };

    // 1000: 2, 2000: 4, 2500: 2, 3000: 4.
    expect(soldOrLapsingReached(log, 4)).toBe(2000);
    expect(soldOrLapsingReached(log, 5)).toBeUndefined();
    expect(soldOrLapsingReached({ booked: [], lapsing: [] }, 1)).toBeUndefined();
  });

  it('When a lapse ends at the instant of a booking, then the expiry counts first (a seat is never both)', () => {
    const log: SaleLog = { booked: [[5000, 2]], lapsing: [[0, 2, 5000]] };

    expect(soldOrLapsingReached(log, 4)).toBeUndefined();
    expect(soldOrLapsingAt(log, 5000)).toEqual({ sold: 2, lapsing: 0 });
  });

  it('When 7% of the seats sit in lapsing holds, then 95% sold is missed at 10 s but sold + held-to-lapse reaches it', () => {
    // The flash-sale defaults in small: 1,000 seats, bookings of 2 seats every 10 ms from t = 0 (460 of them,
    // 920 seats by t = 4.59 s), and 36 two-seat holds left to lapse in the first 3.6 s with a 30 s TTL.
    const stats = new BuyerStats();
    stats.totalSeats = 1000;
    stats.marks.firstHoldAt = 0;
    for (let i = 0; i < 36; i++) stats.letLapse(2, i * 100, i * 100 + 30_000);
    for (let i = 0; i < 460; i++) stats.booked(2, i * 10);
    // Crossed the thread boundary as the client thread sends it.
    const back = deserializeStats(JSON.parse(JSON.stringify(serializeStats(stats))));
    const f: Figure[] = [];

    lapseFigures(f, back, 15, 1000);

    const byName = (prefix: string) => f.find((x) => x.name.startsWith(prefix));
    expect(back.marks.sold95At).toBeUndefined();
    expect(back.letExpire).toBe(36);
    expect(byName('seats sold or held to lapse at 10 s')?.value).toBeCloseTo(99.2);
    expect(byName('seats held to lapse at 10 s')?.value).toBe(72);
    // 950 seats: 72 lapsing (all by 3.5 s) + 878 sold = 439 bookings, the 439th at 4.38 s.
    expect(byName('time to 95% sold or held to lapse')?.value).toBeCloseTo(4.38);
    expect(byName('time to 95% sold or held to lapse')?.note).toBeUndefined();
  });

  it('When the run ends unsold, then the seats in lapsing holds whose TTL ends after the deadline are counted at it', () => {
    // 100 seats: 45 two-seat bookings, one lapsing hold that expired before the deadline (its seats were resold),
    // and two still lapsing at the deadline (60 s): 90 sold + 4 out of reach; 6 seats nobody got to.
    const stats = new BuyerStats();
    stats.totalSeats = 100;
    stats.marks.firstHoldAt = 0;
    stats.letLapse(2, 1000, 31_000);
    stats.letLapse(2, 35_000, 65_000);
    stats.letLapse(2, 40_000, 70_000);
    for (let i = 0; i < 45; i++) stats.booked(2, 1000 + i * 1000);
    stats.marks.endedAt = 60_000;
    const back = deserializeStats(JSON.parse(JSON.stringify(serializeStats(stats))));
    const f: Figure[] = [];

    lapseFigures(f, back, 60, 100);

    expect(f.find((x) => x.name.startsWith('seats held to lapse at the deadline'))?.value).toBe(4);
    expect(f.find((x) => x.name === 'seats sold or held to lapse at the deadline')?.value).toBe(94);
  });

  it('When the run sold out, then there is no deadline figure', () => {
    const stats = new BuyerStats();
    stats.totalSeats = 4;
    stats.marks.firstHoldAt = 0;
    stats.booked(2, 500);
    stats.booked(2, 600);
    stats.marks.endedAt = 600;
    const f: Figure[] = [];

    lapseFigures(f, stats, 1, 4);

    expect(f.some((x) => x.name.includes('at the deadline'))).toBe(false);
  });

  it('When the run never reaches 95%, then the run length stands in, noted', () => {
    const stats = new BuyerStats();
    stats.totalSeats = 100;
    stats.marks.firstHoldAt = 0;
    stats.booked(2, 500);
    const f: Figure[] = [];

    lapseFigures(f, stats, 12, 100);

    const t = f.find((x) => x.name.startsWith('time to 95% sold or held to lapse'));
    expect(t?.value).toBe(12);
    expect(t?.note).toMatch(/not reached/);
  });
});
