import type { AuthUser } from '../shared/auth-user';
import { isStaff } from '../shared/auth-user';
import type { Knex } from 'knex';
import type { Trx } from '../db/transaction';
import { isMysql } from '../db/knex';
import { tableVia } from '../db/index-hint';
import { ConflictError, ForbiddenError, NotFoundError, UnprocessableError } from '../shared/errors';
import { newToken } from '../shared/ids';
import { lockHolders } from './holder-lock';
import { SEAT_HOLD_INDEX } from './seat-store';

export interface HoldRow {
  id: number;
  token: string;
  event_id: number;
  user_id: number;
  customer_name: string | null;
  customer_email: string | null;
  status: 'active' | 'released' | 'expired' | 'booked';
  source: string;
  /** Where a buyer's hold came from (the per-IP cap); null for server-made holds. */
  client_ip: string | null;
  expires_at: number;
  max_expires_at: number;
  created_at: number;
}

export interface EventRules {
  id: number;
  status: string;
  hold_ttl_seconds: number;
  max_hold_life_seconds: number;
  max_seats_per_order: number;
  max_seats_per_user: number;
}

export async function loadEventRules(trx: Knex, eventId: number): Promise<EventRules> {
  const event = (await trx('events')
    .where({ id: eventId })
    .first('id', 'status', 'hold_ttl_seconds', 'max_hold_life_seconds', 'max_seats_per_order', 'max_seats_per_user')) as EventRules | undefined;
  if (!event || event.status === 'draft') throw new NotFoundError('Event', 'EVENT_NOT_FOUND');
  return event;
}

export function assertOnSale(event: EventRules): void {
  if (event.status !== 'on_sale') throw new ConflictError('EVENT_NOT_ON_SALE', `This event is ${event.status.replace('_', ' ')}; seats cannot be held or booked`);
}

/**
 * Loads a hold by token for `actor`, who must own it or be staff (invariant 5: writes are scoped by owner).
 * With `live`, the hold must also be active and not past its expiry by the database's record.
 */
export async function loadHoldForActor(trx: Knex, token: string, actor: AuthUser, now: number, opts: { live: boolean }): Promise<HoldRow> {
  const hold = (await trx('holds').where({ token }).first()) as HoldRow | undefined;
  if (!hold) throw new NotFoundError('Hold', 'HOLD_NOT_FOUND');
  if (hold.user_id !== actor.id && !isStaff(actor)) throw new ForbiddenError('This hold belongs to someone else');
  if (opts.live) assertLive(hold, now);
  return hold;
}

export function assertLive(hold: HoldRow, now: number): void {
  if (hold.status === 'booked') throw new ConflictError('HOLD_ALREADY_BOOKED', 'This hold has already been booked');
  if (hold.status === 'released') throw new ConflictError('HOLD_RELEASED', 'This hold was released');
  if (hold.status === 'expired' || Number(hold.expires_at) <= now) throw new ConflictError('HOLD_EXPIRED', 'This hold has expired; pick your seats again');
}

export interface AdmissionInput {
  actor: AuthUser;
  /** Whose hold it is (the actor, or the owner of the hold being added to). */
  holderId: number;
  event: EventRules;
  /** Seats or tickets this request adds. */
  adding: number;
  /** Already in the hold being added to (0 for a new hold). */
  inThisHold: number;
  /** Seats or tickets the holder already holds live in this event; only read for buyers. */
  heldByHolder: () => Promise<number>;
  unit: 'seats' | 'tickets';
  /** The per-IP cap (HOLD_CAP_PER_IP): the client's address, the cap, and what that address holds now. */
  ip?: { address: string; cap: number; held: () => Promise<number> };
}

/**
 * The limits every new hold, or addition to one, must pass: at most `max_seats_per_order` in the hold, and for
 * buyers (not staff) at most `max_seats_per_user` held in the event. It first locks the holder's row for this
 * event (`lockHolders`), so two concurrent requests of one user cannot both pass the count; only that user's
 * requests for this event serialise, there is no per-event hot row.
 */
export async function admitHold(trx: Trx, input: AdmissionInput): Promise<void> {
  const { event, unit } = input;
  await lockHolders(trx, event.id, [input.holderId]);
  if (input.inThisHold + input.adding > event.max_seats_per_order) {
    throw new UnprocessableError('TOO_MANY_SEATS', `At most ${event.max_seats_per_order} ${unit} per order`, { max: event.max_seats_per_order });
  }
  if (isStaff(input.actor)) return;
  const held = await input.heldByHolder();
  if (held + input.adding > event.max_seats_per_user) {
    throw new UnprocessableError('HOLD_LIMIT_REACHED', `You can hold at most ${event.max_seats_per_user} ${unit} for this event`, {
      max: event.max_seats_per_user,
      held,
    });
  }
  if (input.ip && input.ip.cap > 0) {
    const held = await input.ip.held();
    if (held + input.adding > input.ip.cap) throw ipHoldLimit(input.ip.cap, held);
  }
}

/** The per-IP cap refused a hold (one client holding more of an event than the cap, across all its accounts). */
export function ipHoldLimit(cap: number, held: number): UnprocessableError {
  return new UnprocessableError('IP_HOLD_LIMIT_REACHED', `Your network already holds ${held} seats of this event; at most ${cap} can be held from one address`, { max: cap, held });
}


/**
 * Seats held live in the event, counted per holder (`user_id`: the per-user limit) or per client address
 * (`client_ip`: the per-IP cap), for each of `keys`; a key that holds nothing counts 0. One grouped read however
 * many keys a batch asks about.
 */
export async function heldSeatsBy<K extends number | string>(trx: Knex, eventId: number, now: number, by: 'user_id' | 'client_ip', keys: K[]): Promise<Map<K, number>> {
  return heldCounts(keys, (await heldSeatsQuery(trx, eventId, now, by, keys)) as HeldCountRow<K>[]);
}

/** One row of `heldSeatsQuery`: a key and its seats held. */
export type HeldCountRow<K> = { k: K; n: number | string };

/** The holds index that leads with (event_id, key, status), for each key a limit is counted by. */
const HELD_BY_INDEX = { user_id: 'holds_event_id_user_id_status_index', client_ip: 'holds_event_client_ip_status' } as const;

/**
 * The grouped read behind `heldSeatsBy`, for a caller that sends it in a round of its own (`heldCounts` reads its
 * rows). On SQLite the holds of the keys are read first, through their index, and their seats by `hold_id`
 * (index-hint.ts): its own plan read every seat of the event.
 */
export function heldSeatsQuery(trx: Knex, eventId: number, now: number, by: 'user_id' | 'client_ip', keys: (number | string)[]): Knex.QueryBuilder {
  const from: Knex.QueryBuilder = isMysql(trx)
    ? trx('event_seats as es').join('holds as h', 'h.id', 'es.hold_id')
    : trx
        .from(trx.raw(`${tableVia(trx, 'holds', HELD_BY_INDEX[by], { alias: 'h' })} CROSS JOIN ${tableVia(trx, 'event_seats', SEAT_HOLD_INDEX, { alias: 'es' })} ON es.hold_id = h.id`))
        .where('h.event_id', eventId);
  return from
    .where({ 'es.event_id': eventId, 'es.status': 'held', 'h.status': 'active' })
    .andWhere('es.hold_expires_at', '>', now)
    .whereIn(`h.${by}`, keys)
    .groupBy(`h.${by}`)
    .select(`h.${by} as k`)
    .count({ n: '*' });
}

/** Seats held per key from the rows of `heldSeatsQuery`; a key with no row holds 0. */
export function heldCounts<K extends number | string>(keys: K[], rows: HeldCountRow<K>[]): Map<K, number> {
  const held = new Map<K, number>(keys.map((k) => [k, 0]));
  for (const c of rows) held.set(c.k, Number(c.n));
  return held;
}

/** Seats in the user's live holds for the event (the per-user limit). */
export async function heldSeatsOf(trx: Knex, eventId: number, userId: number, now: number): Promise<number> {
  return (await heldSeatsBy(trx, eventId, now, 'user_id', [userId])).get(userId)!;
}

/** Seats held live in the event by holds made from `address` (the per-IP cap). */
export async function heldSeatsFromIp(trx: Knex, eventId: number, address: string, now: number): Promise<number> {
  return (await heldSeatsBy(trx, eventId, now, 'client_ip', [address])).get(address)!;
}

/** The row of a new active hold: a fresh token, expiry after the hold time, and a maximum life extensions cannot pass. */
export function newHoldRow(
  event: Pick<EventRules, 'id' | 'hold_ttl_seconds' | 'max_hold_life_seconds'>,
  userId: number,
  now: number,
  opts: { source?: 'user' | 'box_office' | 'waitlist'; customer?: { name: string; email?: string | null }; clientIp?: string } = {},
): Omit<HoldRow, 'id'> {
  return {
    token: newToken(),
    event_id: event.id,
    user_id: userId,
    customer_name: opts.customer?.name ?? null,
    customer_email: opts.customer?.email ?? null,
    status: 'active',
    source: opts.source ?? 'user',
    client_ip: opts.clientIp ?? null,
    expires_at: now + event.hold_ttl_seconds * 1000,
    max_expires_at: now + event.max_hold_life_seconds * 1000,
    created_at: now,
  };
}
