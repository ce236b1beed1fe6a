/** A simulated buyer: picks seats, holds, books or lets the hold lapse, and retries what the server says to retry. */
import { randomUUID } from 'node:crypto';
import type { Ack, BookingView, ClientToServerEvents, HoldView, SeatsChanged } from '../packages/client/src';
import type { LayoutOrder } from '../packages/client/src';
import { retryDelayMs, retryLaterCode } from './retry';
import { Latency, now, sleep, wallNow } from './stats';
import { BuyerStats, sleepUnless, type CommandKind, type Outcome } from './buyer-stats';
import { connect, firstSnapshot, onChanges, pickRandom, send, SeatChooser, type ClientSocket, type SeatView } from './clients';

export interface BuyerPlan {
  seatsPerHold: number;
  /** Probability a successful hold is booked; else released, or (expireProbability) left to lapse. */
  bookProbability: number;
  expireProbability: number;
  /** Pause between a buyer's actions. */
  thinkMs: number;
  /** Stop after one booking (flash sale) or keep cycling (soak, hot-seat). */
  oneBooking: boolean;
  /** Ignore the seat map: try any of the seats at random (contenders who all click at once). */
  blind?: boolean;
  maxAttempts: number;
}

/**
 * One simulated buyer: a socket, choosing from what its node's buyers know of the seats (a SeatView shared by the
 * buyers of this thread on that node), holding, booking or releasing.
 */
export class Buyer {
  socket!: ClientSocket;
  private readonly avoid = new Set<number>();
  private readonly awaitingExpiry = new Map<number, { version: number; expiresAt: number }>();
  done = false;

  constructor(
    private readonly url: string,
    private readonly eventId: number,
    private readonly token: string,
    private readonly stats: BuyerStats,
    private readonly chooser: SeatChooser,
    private readonly plan: BuyerPlan,
    /** What this thread's buyers on the same node know of the seats, kept from every socket's batches. */
    private readonly view: SeatView,
    private readonly onBatch?: (batch: SeatsChanged, receivedAt: number) => void,
    /** The layout's seat order: the buyer then takes the compact form. */
    private readonly order?: LayoutOrder,
  ) {}

  async connect(): Promise<void> {
    this.socket = connect(this.url, this.eventId, this.token, this.order);
    onChanges(this.socket, this.order, (b) => {
      const at = wallNow();
      this.stats.changeBatch(b.seats.length);
      this.view.applyChanges(b);
      if (this.awaitingExpiry.size) {
        for (const s of b.seats) {
          const w = this.awaitingExpiry.get(s.id);
          // Any newer version: the expiry (one version up), or a later state merged over it in the same window (the
          // seat taken again within the window shows only as held by someone else): either way the buyer now knows.
          if (w && s.version > w.version) {
            this.stats.expiryDelivery.recordMs(Math.max(0, Date.now() - w.expiresAt));
            this.awaitingExpiry.delete(s.id);
          }
        }
      }
      this.onBatch?.(b, at);
    });
    try {
      this.view.applySnapshot(await firstSnapshot(this.socket, undefined, this.order));
    } catch (err) {
      this.stats.connectFailures++;
      this.done = true;
      throw err;
    }
  }

  /**
   * Sends one command and counts its answer under `kind`. A `BUSY`/`RATE_LIMITED` refusal is not a decision:
   * the buyer waits the server's Retry-After with jitter (load/retry.ts; cut short when the run stops) and the
   * caller sends again. Decided answers (and ack timeouts) go into `hist`; refusals into `refusedAck`.
   */
  private async command<E extends 'seat:hold' | 'booking:confirm' | 'seat:release'>(
    kind: CommandKind,
    event: E,
    payload: Parameters<ClientToServerEvents[E]>[0],
    hist: Latency,
    stop: () => boolean,
  ): Promise<{ outcome: Outcome; ack: Ack<unknown> }> {
    const c = this.stats.commands[kind];
    c.sent++;
    const t0 = now();
    if (kind === 'hold') this.stats.marks.firstHoldAt ??= t0;
    const ack = (await send(this.socket, event, payload)) as Ack<unknown>;
    const ms = now() - t0;
    const later = ack.ok ? undefined : retryLaterCode(ack.error);
    if (!ack.ok && later) {
      if (later === 'BUSY') c.busy++;
      else c.rateLimited++;
      this.stats.refusedAck.recordMs(ms);
      await sleepUnless(retryDelayMs(ack.error), stop);
      return { outcome: 'later', ack };
    }
    hist.recordMs(ms);
    if (kind === 'hold') this.stats.timeline.recordHoldAck((t0 - this.stats.marks.firstHoldAt!) / 1000, ms);
    else if (kind === 'booking' && this.stats.marks.firstHoldAt !== undefined) this.stats.timeline.recordBookingAck((t0 - this.stats.marks.firstHoldAt) / 1000, ms);
    if (!ack.ok && ack.error.code === 'ACK_TIMEOUT') {
      c.timeouts++;
      return { outcome: 'timeout', ack };
    }
    return { outcome: 'decided', ack };
  }

  /** Buys until `stop()` says so, the buyer has booked (oneBooking), or runs out of attempts. */
  async run(stop: () => boolean): Promise<void> {
    const p = this.plan;
    // Hold commands answered with something other than BUSY/RATE_LIMITED: refusals are not attempts.
    let attempts = 0;
    // First send of the current try, for the decision latency across Retry-After waits.
    let tryStart: number | undefined;
    while (!stop() && !this.done && attempts < p.maxAttempts) {
      const seatIds = p.blind ? pickRandom(this.chooser.seats.map((s) => s.id), p.seatsPerHold) : this.chooser.choose(this.view.free, p.seatsPerHold, this.avoid);
      if (seatIds.length === 0) {
        // Nothing looks free right now: held seats may come back (released or lapsed). Wait for changes. A try
        // refused BUSY ends here undecided: its decision time must not grow with the wait for seats to return.
        tryStart = undefined;
        await sleep(100);
        continue;
      }
      tryStart ??= now();
      // After a refusal the buyer chooses again: the seat map may have changed while it waited.
      const { outcome, ack: raw } = await this.command('hold', 'seat:hold', { seatIds }, this.stats.holdAck, stop);
      if (outcome === 'later') continue;
      attempts++;
      this.stats.holdDecision.recordMs(now() - tryStart);
      tryStart = undefined;
      const ack = raw as Ack<HoldView>;
      if (!ack.ok) {
        if (outcome === 'decided') this.stats.holdAttempts++;
        if (ack.error.code === 'SEAT_UNAVAILABLE') {
          this.stats.conflicts++;
          // Until the broadcast arrives, do not pick the seats the server just said are taken.
          const taken = ((ack.error.details as { seatIds?: number[] } | undefined)?.seatIds ?? seatIds) as number[];
          for (const id of taken) this.avoid.add(id);
          setTimeout(() => taken.forEach((id) => this.avoid.delete(id)), 1000).unref();
        } else {
          this.stats.error(ack.error.code);
          if (ack.error.code === 'ACK_TIMEOUT' || ack.error.code === 'HOLD_LIMIT_REACHED') await sleep(200);
        }
        if (p.thinkMs) await sleep(p.thinkMs);
        continue;
      }
      this.stats.holdAttempts++;
      this.stats.holds++;
      this.stats.seatsHeld += ack.data.seats.length;
      if (p.thinkMs) await sleep(p.thinkMs);
      const r = Math.random();
      if (r < p.bookProbability) {
        await this.book(ack.data.holdToken, stop);
      } else if (r < p.bookProbability + p.expireProbability) {
        const expiresAt = Date.parse(ack.data.expiresAt);
        // The stored expiry on this thread's monotonic clock (server and clients share the machine's wall clock).
        const at = now();
        this.stats.letLapse(ack.data.seats.length, at, at + (expiresAt - Date.now()));
        for (const s of ack.data.seats) this.awaitingExpiry.set(s.id, { version: s.version, expiresAt });
      } else {
        await this.release(ack.data.holdToken, stop);
      }
      if (p.thinkMs) await sleep(p.thinkMs);
    }
  }

  /** Books a hold, resending (same idempotency key) after BUSY/RATE_LIMITED until decided or the run stops. */
  private async book(holdToken: string, stop: () => boolean): Promise<void> {
    const idempotencyKey = randomUUID();
    const t0 = now();
    for (;;) {
      const { outcome, ack } = await this.command('booking', 'booking:confirm', { holdToken, idempotencyKey }, this.stats.bookAck, stop);
      if (outcome === 'later') {
        // Run over while refused: the hold is left to lapse, as a client that gave up would.
        if (stop()) return;
        continue;
      }
      this.stats.bookDecision.recordMs(now() - t0);
      if (outcome === 'decided') this.stats.bookingAttempts++;
      const booked = ack as Ack<BookingView>;
      if (booked.ok) {
        this.stats.bookings++;
        this.stats.booked(booked.data.seats.length, now());
        this.stats.acked.push({ bookingId: booked.data.id, seatIds: booked.data.seats.map((s) => s.seatId) });
        if (this.plan.oneBooking) this.done = true;
      } else this.stats.error(`book:${booked.error.code}`);
      return;
    }
  }

  /** Releases a hold, resending after BUSY/RATE_LIMITED until decided or the run stops. */
  private async release(holdToken: string, stop: () => boolean): Promise<void> {
    for (;;) {
      const { outcome, ack } = await this.command('release', 'seat:release', { holdToken }, this.stats.releaseAck, stop);
      if (outcome === 'later') {
        if (stop()) return;
        continue;
      }
      if (ack.ok) this.stats.releases++;
      else this.stats.error(`release:${ack.error.code}`);
      return;
    }
  }

  pendingExpiries(): number {
    return this.awaitingExpiry.size;
  }

  close(): void {
    this.socket?.close();
  }
}

/**
 * A watcher (box-office terminal): listens only. Records, for each seat state, the delay from the commit the
 * cluster observed (`commitTimes`) to this receipt.
 */
