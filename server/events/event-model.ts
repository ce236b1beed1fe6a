import { Model } from 'objection';
import type { EventStatus } from '../contracts/events';

/** Row of `events`. Always queried with an explicit knex/trx. */
export class EventModel extends Model {
  static override tableName = 'events';
  id!: number;
  venue_id!: number;
  name!: string;
  description!: string | null;
  starts_at!: number;
  ends_at!: number | null;
  status!: EventStatus;
  hold_ttl_seconds!: number;
  max_hold_life_seconds!: number;
  max_seats_per_order!: number;
  max_seats_per_user!: number;
  version!: number;
  created_at!: number;
  updated_at!: number;
}
