/**
 * Sell-out with the buyers' own choice taken out. A flash-sale buyer lets a successful hold lapse with
 * `--expire-probability` (5% by default); its seats come back only after the hold's TTL (30 s by default), so no
 * server, however fast, can sell them before then. With the defaults ~714 successful holds make 500 two-seat
 * bookings, ~36 of them are left to lapse: ~72 seats (~7%) out of reach until t ≈ 30 s, which alone puts
 * "95% sold ≤ 10 s" out of reach. These figures count a seat in such a hold as if it were sold while the hold
 * lasts, so what is left measures how fast the server sold what it could sell.
 */
import type { BuyerStats, SaleLog } from './buyer-stats';
import { figure, type Figure } from './report';
import { round } from './stats';

/** Seats booked, and seats inside a hold left to lapse that has not expired yet, at instant `t` (the log's clock). */
export function soldOrLapsingAt(log: SaleLog, t: number): { sold: number; lapsing: number } {
  let sold = 0;
  let lapsing = 0;
  for (const [at, seats] of log.booked) if (at <= t) sold += seats;
  for (const [at, seats, until] of log.lapsing) if (at <= t && t < until) lapsing += seats;
  return { sold, lapsing };
}

/**
 * The first instant at which booked + lapsing seats reach `need`, or undefined if they never do in this log.
 * The sum can fall (a lapsing hold expires), so this is the first crossing, not the last.
 */
export function soldOrLapsingReached(log: SaleLog, need: number): number | undefined {
  const steps: [number, number][] = log.booked.map(([at, seats]) => [at, seats]);
  for (const [at, seats, until] of log.lapsing) steps.push([at, seats], [until, -seats]);
  // At one instant, an expiry counts before an addition: the seat is not both lapsing and sold at once.
  steps.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let n = 0;
  for (const [t, delta] of steps) {
    n += delta;
    if (n >= need) return t;
  }
  return undefined;
}

/**
 * Figures (flash sale): the share of seats sold or held to lapse 10 s after the first hold (and how many were
 * held to lapse then), and first hold -> that sum reaching 95% of the seats. No target of their own: they are
 * to be read beside "time to 95% sold" and its ≤ 10 s. When the run ended first, the run's length stands in, noted.
 * A run that did not sell out also gets the same two counts at its deadline, to read beside "seats sold at the
 * deadline" and its target of every seat.
 */
export function lapseFigures(f: Figure[], stats: BuyerStats, seconds: number, totalSeats: number): void {
  const first = stats.marks.firstHoldAt;
  if (first === undefined || totalSeats <= 0) return;
  const at10 = soldOrLapsingAt(stats.sale, first + 10_000);
  // The log ends with the buying phase: a run stopped by --duration before 10 s says nothing about 10 s.
  const short = seconds < 10 && stats.seatsBooked < totalSeats ? `run ended at ${round(seconds, 1)} s: its state then` : undefined;
  f.push(figure('seats sold or held to lapse at 10 s after the first hold', (100 * (at10.sold + at10.lapsing)) / totalSeats, '%', undefined, undefined, short));
  f.push(figure('seats held to lapse at 10 s after the first hold (out of reach until their TTL)', at10.lapsing, 'seats', undefined, undefined, short));
  const name = 'time to 95% sold or held to lapse (first hold -> booked + held-to-lapse seats >= 95%)';
  const reached = soldOrLapsingReached(stats.sale, Math.ceil(totalSeats * 0.95));
  if (reached !== undefined) f.push(figure(name, (reached - first) / 1000, 's'));
  else f.push(figure(name, seconds, 's', undefined, undefined, "not reached: value is the run's length"));
  // Not sold out by the deadline: how many of the unsold seats sat in holds left to lapse whose TTL ends after it.
  // Those are out of every server's reach in this run, so sold + these = all seats is the bound of "all sold".
  const ended = stats.marks.endedAt;
  if (ended === undefined || stats.seatsBooked >= totalSeats) return;
  const atEnd = soldOrLapsingAt(stats.sale, ended);
  f.push(figure('seats held to lapse at the deadline (their TTL ends after it: out of reach)', atEnd.lapsing, 'seats'));
  f.push(figure('seats sold or held to lapse at the deadline', atEnd.sold + atEnd.lapsing, 'seats'));
}
