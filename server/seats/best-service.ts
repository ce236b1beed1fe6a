import type { HoldGate } from '../queue/gate';
import type { AuthUser } from '../shared/auth-user';
import type { Db } from '../db/knex';
import { RetryableConflict, withTransaction, type RetryOptions, type Trx } from '../db/transaction';
import type { Notifier } from '../realtime/notifier';
import type { HoldView } from '../contracts';
import type { Clock } from '../shared/clock';
import { ConflictError } from '../shared/errors';
import { candidateOf, pickBest } from './best-available';
import { admitHold, assertOnSale, heldSeatsFromIp, heldSeatsOf, loadEventRules, newHoldRow } from '../inventory/hold-rules';
import { holdSeats, openHold } from '../inventory/operations';
import type { BestInput } from '../contracts/seats';
import { assertKnownScope } from './scope';
import { isSeatFree, readLaidOutSeats, toSeatState, type LaidOutSeat } from '../inventory/seat-store';

export interface BestDeps {
  db: Db;
  clock: Clock;
  notifier: Notifier;
  retry?: RetryOptions;
  /** Seats one client address may hold live per event (0: no cap); see HOLD_CAP_PER_IP. */
  ipHoldCap?: number;
  /** The waiting room's admission check. */
  holdGate?: HoldGate;
}

/** Blocks tried inside one transaction before the whole transaction is retried from a fresh read. */
const TRIES_PER_TRANSACTION = 5;


/**
 * Best available: in ONE transaction, reads the seats in scope, ranks blocks with best-available.ts and
 * holds the best one with transitionSeats' version compare-and-set. Each try runs in a savepoint: when a
 * concurrent hold took a seat (the compare-and-set changed fewer rows), the savepoint is rolled back, those
 * seats count as taken and the next best block is tried, up to TRIES_PER_TRANSACTION times; then the whole
 * transaction is retried from a fresh read (bounded by withTransaction).
 */
export class BestAvailableService {
  constructor(private readonly deps: BestDeps) {}

  async holdBest(actor: AuthUser, eventId: number, input: BestInput, ctx: { clientIp?: string } = {}): Promise<HoldView> {
    await this.deps.holdGate?.assertMayHold(actor, eventId);
    const out = await withTransaction(
      this.deps.db,
      async (trx) => {
        const now = this.deps.clock.now();
        const event = await loadEventRules(trx, eventId);
        assertOnSale(event);
        await assertKnownScope(trx, eventId, input);
        await admitHold(trx, {
          actor,
          holderId: actor.id,
          event,
          adding: input.quantity,
          inThisHold: 0,
          heldByHolder: () => heldSeatsOf(trx, eventId, actor.id, now),
          unit: 'seats',
          ...(ctx.clientIp ? { ip: { address: ctx.clientIp, cap: this.deps.ipHoldCap ?? 0, held: () => heldSeatsFromIp(trx, eventId, ctx.clientIp!, now) } } : {}),
        });
        const scope = await this.readScope(trx, eventId, input);
        const byId = new Map(scope.map((s) => [s.seat_id, s]));
        const candidates = scope.map((s) => candidateOf(s, isSeatFree(s, now)));
        const hold = newHoldRow(event, actor.id, now, { clientIp: ctx.clientIp });
        let holdId: number | undefined;
        for (let attempt = 0; attempt < TRIES_PER_TRANSACTION; attempt++) {
          const [pick] = pickBest(candidates, { quantity: input.quantity, allowSplit: input.allowSplit });
          if (!pick) {
            if (attempt === 0) {
              throw new ConflictError('NO_SEATS_AVAILABLE', input.allowSplit ? 'Not enough seats are free' : 'No block of that many adjacent seats is free', {
                quantity: input.quantity,
              });
            }
            break;
          }
          if (holdId === undefined) holdId = (await openHold(trx, hold)).id;
          try {
            // A savepoint: a failed compare-and-set leaves nothing behind, and the outer transaction goes on.
            const result = await trx.transaction((sp) =>
              holdSeats(sp, { eventId, seats: pick.seatIds.map((id) => byId.get(id)!), hold: { ...hold, id: holdId! }, actorId: actor.id, reason: 'hold_best', now }),
            );
            return { hold: { ...hold, id: holdId }, result };
          } catch (err) {
            if (!(err instanceof RetryableConflict)) throw err;
            for (const c of candidates) if (pick.seatIds.includes(c.seatId)) c.free = false;
          }
        }
        throw new RetryableConflict('every best block was taken meanwhile');
      },
      this.deps.retry,
    );
    this.deps.notifier.seatsChanged(eventId, out.result.seats, out.result.cursor);
    return {
      holdToken: out.hold.token,
      eventId,
      expiresAt: new Date(out.hold.expires_at).toISOString(),
      maxExpiresAt: new Date(out.hold.max_expires_at).toISOString(),
      seats: out.result.seats.map((s) => toSeatState({ seat_id: s.id, status: s.status, version: s.version, hold_expires_at: out.hold.expires_at })),
    };
  }

  /** Every seat of the event in scope (free or not: taken seats decide what counts as stranded). */
  private readScope(trx: Trx, eventId: number, input: BestInput): Promise<LaidOutSeat[]> {
    return readLaidOutSeats(trx, eventId, input);
  }
}
