import type { AuthUser } from '../accounts/auth-user';
import { isStaff } from '../accounts/auth-user';
import type { Knex } from 'knex';
import { ConflictError, ForbiddenError, NotFoundError } from '../shared/errors';

export interface HoldRow {
  id: number;
  token: string;
  event_id: number;
  user_id: number;
  customer_name: string | null;
  customer_email: string | null;
  status: 'active' | 'released' | 'expired' | 'booked';
  source: string;
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
