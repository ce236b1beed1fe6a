import type { Knex } from 'knex';

/**
 * `Idempotency-Key` becomes unique per (event, owner) instead of per owner. A booking's key travels with a hold
 * token, so a retry always meets the row it replays in the same event; but with the seat tables sharded by
 * `event_id` (docs/SCALING.md) a unique index can only hold within one shard, and an index across events would
 * force a cross-shard check on every booking.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('bookings', (t) => {
    t.unique(['event_id', 'user_id', 'idempotency_key'], { indexName: 'bookings_event_user_idempotency_key' });
    // A user's bookings across events (GET /api/bookings, the users foreign key) keep an index of their own.
    t.index(['user_id'], 'bookings_user_id');
  });
  await knex.schema.alterTable('bookings', (t) => {
    t.dropUnique(['user_id', 'idempotency_key']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('bookings', (t) => {
    t.unique(['user_id', 'idempotency_key']);
  });
  await knex.schema.alterTable('bookings', (t) => {
    t.dropUnique(['event_id', 'user_id', 'idempotency_key'], 'bookings_event_user_idempotency_key');
    t.dropIndex(['user_id'], 'bookings_user_id');
  });
}
