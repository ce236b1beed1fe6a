import type { Knex } from 'knex';

/**
 * `event_holders`: one row per (event, buyer) that asks for seats, locked inside the seat transaction so two
 * concurrent requests of one buyer cannot both pass the per-user seat limit. It replaces the lock on the buyer's
 * `users` row: with `users` unsharded and the seat tables sharded by `event_id` (docs/SCALING.md), that lock
 * made every hold a cross-shard transaction and made one buyer's holds on two events queue behind each other.
 * The row carries nothing but its key; it exists to be locked.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('event_holders', (t) => {
    t.integer('event_id').unsigned().notNullable();
    t.integer('user_id').unsigned().notNullable();
    t.primary(['event_id', 'user_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('event_holders');
}
