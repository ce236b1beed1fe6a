/**
 * The sale second by second, as the buyers saw it: hold acks by the second (since the sale's first hold) they were
 * sent in, and the `seats:changed` batches buyers received in each second. A whole-run p99 cannot tell an opening
 * burst (2,000 buyers sending their first hold in the same instant) from a sale that is slow throughout, and a
 * run-averaged broadcast rate hides the rate during the rush: this does.
 */
import { figure, type Figure } from './report';
import { Latency } from './stats';

/** One second of the sale: hold acks sent in it (count, p50, p99, ms) and change batches received per buyer. */
export interface SaleSecond {
  second: number;
  holdAcks: number;
  p50: number;
  p99: number;
  batchesPerBuyer: number;
}

/** What crosses the thread boundary: encoded histograms (null for a second with no hold) and batch counts. */
export interface EncodedTimeline {
  holdAck: (string | null)[];
  batches: number[];
}

export class SaleTimeline {
  private readonly holdAck: Latency[] = [];
  private readonly batches: number[] = [];

  /** A hold's ack latency (`ms`), for a hold sent `sentAtS` seconds after the sale's first hold. */
  recordHoldAck(sentAtS: number, ms: number): void {
    (this.holdAck[secondOf(sentAtS)] ??= new Latency()).recordMs(ms);
  }

  /** One change batch received by one buyer, `atS` seconds after the sale's first hold. */
  recordBatch(atS: number): void {
    const s = secondOf(atS);
    this.batches[s] = (this.batches[s] ?? 0) + 1;
  }

  encode(): EncodedTimeline {
    return { holdAck: Array.from(this.holdAck, (h) => h?.encode() ?? null), batches: Array.from(this.batches, (n) => n ?? 0) };
  }

  merge(e: EncodedTimeline): void {
    e.holdAck.forEach((h, s) => h && (this.holdAck[s] ??= new Latency()).merge(h));
    e.batches.forEach((n, s) => (this.batches[s] = (this.batches[s] ?? 0) + n));
  }

  /** Every second with a hold sent or a batch received, in order. */
  seconds(buyers: number): SaleSecond[] {
    const out: SaleSecond[] = [];
    for (let s = 0; s < Math.max(this.holdAck.length, this.batches.length); s++) {
      const h = this.holdAck[s]?.summary();
      const b = this.batches[s] ?? 0;
      if (!h && !b) continue;
      out.push({ second: s, holdAcks: h?.count ?? 0, p50: h?.p50 ?? 0, p99: h?.p99 ?? 0, batchesPerBuyer: Math.round((100 * b) / Math.max(1, buyers)) / 100 });
    }
    return out;
  }

  /** Hold acks of holds sent in seconds >= `from`, together. */
  holdAcksFrom(from: number): Latency {
    const all = new Latency();
    this.holdAck.forEach((h, s) => s >= from && h && all.merge(h.encode()));
    return all;
  }

  /**
   * Figures: hold ack p99 of the sale's first second (the opening burst) and of the rest, and the most change
   * batches a buyer received in one second (the broadcast rate at the rush, beside the run's average).
   */
  figures(f: Figure[], buyers: number): void {
    const first = this.holdAck[0]?.summary();
    if (first) f.push(figure('hold ack p99, holds sent in the first second of the sale', first.p99, 'ms'));
    const rest = this.holdAcksFrom(1);
    if (rest.count) f.push(figure('hold ack p99, holds sent after the first second', rest.summary().p99, 'ms'));
    f.push(figure('seats:changed batches received per buyer, busiest second', this.peakBatchesPerBuyer(buyers), '1/s'));
  }

  /** The most change batches one buyer received in one second of the sale, on average over the buyers. */
  peakBatchesPerBuyer(buyers: number): number {
    return Math.max(0, ...this.seconds(buyers).map((s) => s.batchesPerBuyer));
  }
}

const secondOf = (atS: number) => Math.max(0, Math.floor(atS));
