/**
 * The sale second by second, as the buyers saw it: hold acks by the second (since the sale's first hold) they were
 * sent in, and the `seats:changed` batches buyers received in each second. A whole-run p99 cannot tell an opening
 * burst (2,000 buyers sending their first hold in the same instant) from a sale that is slow throughout, and a
 * run-averaged broadcast rate hides the rate during the rush: this does.
 */
import { figure, type Figure } from './report';
import { Latency, round } from './stats';
import { SCHED_GROUPS, type SchedGroup, type SchedGroups } from './thread-sched';

/**
 * One second of the sale: hold acks sent in it (count, p50, p99, ms), change batches received per buyer, and what
 * load/machine-probe.ts saw, where it ran: the mean number of the machine's cores busy, and the share of the
 * second the buyers' thread was busy.
 */
export interface SaleSecond {
  second: number;
  holdAcks: number;
  p50: number;
  p99: number;
  /** Booking acks of bookings sent in this second, and their p99 (ms); absent in a second with no booking. */
  bookingAcks?: number;
  bookingP99?: number;
  batchesPerBuyer: number;
  busyCores?: number;
  buyersThreadBusy?: number;
  /** Each thread group's share of the second on a core and waiting for one (load/thread-sched.ts), where read. */
  sched?: Partial<Record<SchedGroup, { run: number; wait: number }>>;
}

/** What crosses the thread boundary: encoded histograms (null for a second with no hold), batch counts, probes. */
export interface EncodedTimeline {
  holdAck: (string | null)[];
  bookingAck?: (string | null)[];
  batches: number[];
  /** Per second: busy core-seconds and the seconds they were sampled over; busy thread-seconds and theirs. */
  load?: Load[];
  cores?: number;
  /** Per second: each group's seconds on a core and waiting for one, and the seconds they were read over. */
  sched?: Sched[];
}

/** A second's probe readings: busy core-seconds, seconds read; busy thread-seconds, seconds read. */
type Load = [number, number, number, number];
/** A second's thread readings: per group [seconds on a core, seconds waiting for one], and the seconds read. */
interface Sched {
  groups: Partial<Record<SchedGroup, [number, number]>>;
  read: number;
}

/** The opening rush the probe figures summarise: the sale's first seconds, where the ack p99 figures are set. */
export const RUSH_SECONDS = 5;

export class SaleTimeline {
  private readonly holdAck: Latency[] = [];
  private readonly bookingAck: Latency[] = [];
  private readonly batches: number[] = [];
  private readonly load: Load[] = [];
  private readonly sched: Sched[] = [];
  /** The machine's cores, once a CPU reading arrived. */
  private cores: number | undefined;

  /** A hold's ack latency (`ms`), for a hold sent `sentAtS` seconds after the sale's first hold. */
  recordHoldAck(sentAtS: number, ms: number): void {
    (this.holdAck[secondOf(sentAtS)] ??= new Latency()).recordMs(ms);
  }

  /** A booking's ack latency (`ms`), for a booking sent `sentAtS` seconds after the sale's first hold. */
  recordBookingAck(sentAtS: number, ms: number): void {
    (this.bookingAck[secondOf(sentAtS)] ??= new Latency()).recordMs(ms);
  }

  /** One change batch received by one buyer, `atS` seconds after the sale's first hold. */
  recordBatch(atS: number): void {
    const s = secondOf(atS);
    this.batches[s] = (this.batches[s] ?? 0) + 1;
  }

  /**
   * A probe reading over [fromS, toS] (seconds since the sale's first hold): the machine's busy cores (undefined:
   * not known here) of its `cores`, and the buyers' thread's busy share. A reading that spans seconds (a busy
   * thread reads late) counts in each second by its overlap; time before the sale is left out.
   */
  recordLoad(fromS: number, toS: number, busyCores: number | undefined, threadBusy: number, cores: number, sched?: SchedGroups): void {
    for (let s = Math.max(0, Math.floor(fromS)); s < toS; s++) {
      const overlap = Math.min(toS, s + 1) - Math.max(fromS, s);
      if (overlap <= 0) continue;
      if (sched) this.recordSched(s, sched, overlap, overlap / (toS - fromS));
      const l = (this.load[s] ??= [0, 0, 0, 0]);
      if (busyCores !== undefined) {
        l[0] += busyCores * overlap;
        l[1] += overlap;
        this.cores = cores;
      }
      l[2] += threadBusy * overlap;
      l[3] += overlap;
    }
  }

  /** `share` of a reading's nanoseconds per group into second `s`, which the reading covered for `overlap` s. */
  private recordSched(s: number, sched: SchedGroups, overlap: number, share: number): void {
    const into = (this.sched[s] ??= { groups: {}, read: 0 });
    into.read += overlap;
    for (const g of SCHED_GROUPS) {
      const t = sched[g];
      if (!t) continue;
      const e = (into.groups[g] ??= [0, 0]);
      e[0] += (t.runNs / 1e9) * share;
      e[1] += (t.waitNs / 1e9) * share;
    }
  }

  encode(): EncodedTimeline {
    return {
      holdAck: Array.from(this.holdAck, (h) => h?.encode() ?? null),
      bookingAck: Array.from(this.bookingAck, (h) => h?.encode() ?? null),
      batches: Array.from(this.batches, (n) => n ?? 0),
      load: Array.from(this.load, (l) => l ?? [0, 0, 0, 0]),
      cores: this.cores,
      sched: Array.from(this.sched, (x) => x ?? { groups: {}, read: 0 }),
    };
  }

  merge(e: EncodedTimeline): void {
    e.holdAck.forEach((h, s) => h && (this.holdAck[s] ??= new Latency()).merge(h));
    e.bookingAck?.forEach((h, s) => h && (this.bookingAck[s] ??= new Latency()).merge(h));
    e.batches.forEach((n, s) => (this.batches[s] = (this.batches[s] ?? 0) + n));
    e.load?.forEach((l, s) => addLoad((this.load[s] ??= [0, 0, 0, 0]), l));
    e.sched?.forEach((x, s) => addSched((this.sched[s] ??= { groups: {}, read: 0 }), x));
    this.cores ??= e.cores;
  }

  /** Every second with a hold or booking sent or a batch received, in order. */
  seconds(buyers: number): SaleSecond[] {
    const out: SaleSecond[] = [];
    for (let s = 0; s < Math.max(this.holdAck.length, this.batches.length, this.bookingAck.length); s++) {
      const h = this.holdAck[s]?.summary();
      const b = this.batches[s] ?? 0;
      if (!h && !b && !this.bookingAck[s]) continue;
      const second: SaleSecond = { second: s, holdAcks: h?.count ?? 0, p50: h?.p50 ?? 0, p99: h?.p99 ?? 0, batchesPerBuyer: round(b / Math.max(1, buyers)) };
      const l = this.load[s];
      if (l && l[1] > 0) second.busyCores = round(l[0] / l[1]);
      if (l && l[3] > 0) second.buyersThreadBusy = round(l[2] / l[3]);
      const booked = this.bookingAck[s]?.summary();
      if (booked) Object.assign(second, { bookingAcks: booked.count, bookingP99: booked.p99 });
      const x = this.sched[s];
      if (x && x.read > 0) second.sched = Object.fromEntries(Object.entries(x.groups).map(([g, [run, wait]]) => [g, { run: round(run / x.read), wait: round(wait / x.read) }]));
      out.push(second);
    }
    return out;
  }

  /**
   * Figures: hold and booking ack p99 of the sale's first second (the opening burst) and of the rest, the most change
   * batches a buyer received in one second (the broadcast rate at the rush, beside the run's average), and, where
   * the probe ran, the machine's busy cores and the buyers' thread's busy share over the rush (the first 5 s),
   * beside `rushBaseline`'s (the bare ack-echo at the rush rate, when it ran), and the threads' waits for a core.
   */
  figures(f: Figure[], buyers: number, rushBaseline: { busyCores?: number; threadBusyPct?: number } = {}): void {
    openingAndRest(f, 'hold', this.holdAck);
    // Bookings the same way: a tail set by the cold opening (a booking waits for two batches) shows apart from the rush's.
    openingAndRest(f, 'booking', this.bookingAck);
    f.push(figure('seats:changed batches received per buyer, busiest second', this.peakBatchesPerBuyer(buyers), '1/s'));
    const rush: Load = [0, 0, 0, 0];
    for (const l of this.load.slice(0, RUSH_SECONDS)) if (l) addLoad(rush, l);
    if (rush[1]! > 0 && this.cores) f.push(figure(`machine cores busy, first ${RUSH_SECONDS} s of the sale (mean, of ${this.cores})`, round(rush[0]! / rush[1]!), 'cores', rushBaseline.busyCores));
    if (rush[3]! > 0) f.push(figure(`buyers' thread busy, first ${RUSH_SECONDS} s of the sale`, Math.round((100 * rush[2]!) / rush[3]!), '%', rushBaseline.threadBusyPct));
    this.schedFigures(f);
  }

  /**
   * Over the rush: the share of the time the nodes' thread and the buyers' thread were on a core and runnable but
   * waiting for one, and the cores the run's threads wanted (on a core or waiting), beside the machine's cores. A
   * wait is time an ack spent in the machine's run queue, not in anyone's code.
   */
  private schedFigures(f: Figure[]): void {
    const rush: Sched = { groups: {}, read: 0 };
    for (const x of this.sched.slice(0, RUSH_SECONDS)) if (x) addSched(rush, x);
    if (rush.read <= 0) return;
    const pct = (s: number) => Math.round((100 * s) / rush.read);
    for (const [group, who] of [['nodes', "nodes' thread"], ['buyers', "buyers' thread"]] as const) {
      const t = rush.groups[group];
      if (!t) continue;
      f.push(figure(`${who} on a core, first ${RUSH_SECONDS} s of the sale`, pct(t[0]), '%'));
      f.push(figure(`${who} waiting for a core, first ${RUSH_SECONDS} s of the sale`, pct(t[1]), '%'));
    }
    const wanted = Object.values(rush.groups).reduce((n, [run, wait]) => n + run + wait, 0);
    // Beside the machine's cores: a ratio over 1 is work that had to queue for a core.
    f.push(figure(`cores wanted, first ${RUSH_SECONDS} s of the sale (the generator's threads, the database, Redis: on a core or waiting; baseline: the machine's cores)`, round(wanted / rush.read), 'cores', this.cores));
  }

  /** The most change batches one buyer received in one second of the sale, on average over the buyers. */
  peakBatchesPerBuyer(buyers: number): number {
    return Math.max(0, ...this.seconds(buyers).map((s) => s.batchesPerBuyer));
  }
}

/**
 * The acks against the bare ack-echo run again at the busiest second's broadcast rate (`echo`): the machine's own
 * bound for these clients in the rush, with no server work. Bookings are read against it as holds are, since most
 * follow a hold won in the rush. Beside them, the broadcast rate the echo's clients received against the one asked.
 */
export function rushAckFigures(f: Figure[], acks: { hold: Latency; booking: Latency }, echo: { latency: { p99: number }; batchesPerClientPerS: number }, rushRate: number): void {
  f.push(figure("hold ack p99 (baseline: bare ack-echo at the busiest second's broadcast rate)", acks.hold.summary().p99, 'ms', echo.latency.p99));
  if (acks.booking.count) f.push(figure("booking ack p99 (baseline: bare ack-echo at the busiest second's broadcast rate)", acks.booking.summary().p99, 'ms', echo.latency.p99));
  f.push(figure('seats:changed batches per client per second, bare ack-echo at the rush rate', echo.batchesPerClientPerS, '1/s', rushRate));
}

/** Ack p99 of the commands of one kind sent in the sale's first second, and of those sent after it (each if any). */
function openingAndRest(f: Figure[], kind: 'hold' | 'booking', bySecond: Latency[]): void {
  const first = bySecond[0]?.summary();
  if (first) f.push(figure(`${kind} ack p99, ${kind}s sent in the first second of the sale`, first.p99, 'ms'));
  const rest = new Latency();
  bySecond.forEach((h, s) => s >= 1 && h && rest.merge(h.encode()));
  if (rest.count) f.push(figure(`${kind} ack p99, ${kind}s sent after the first second`, rest.summary().p99, 'ms'));
}

const secondOf = (atS: number) => Math.max(0, Math.floor(atS));
/** Adds one second's probe readings into another's. */
const addLoad = (into: Load, l: Load) => l.forEach((x, i) => (into[i] += x));
/** Adds one second's thread readings into another's. */
function addSched(into: Sched, x: Sched): void {
  into.read += x.read;
  for (const [g, [run, wait]] of Object.entries(x.groups) as [SchedGroup, [number, number]][]) {
    const e = (into.groups[g] ??= [0, 0]);
    e[0] += run;
    e[1] += wait;
  }
}
