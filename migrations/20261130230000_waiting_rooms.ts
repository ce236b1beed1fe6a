import type { Knex } from 'knex';

/**
 * `waiting_rooms`: one row per event whose sale runs through the waiting room (issue 12). Only the configuration
 * lives here; the line itself (places, admissions) lives in the queue store (Redis with several nodes, memory on
 * the embedded default), because it changes thousands of times a second during an on-sale. Times are epoch ms.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('waiting_rooms', (t) => {
    t.integer('event_id').unsigned().primary().references('id').inTable('events').onDelete('CASCADE');
    t.boolean('enabled').notNullable().defaultTo(false);
    t.bigInteger('opens_at').notNullable();
    t.bigInteger('sale_starts_at').notNullable();
    t.integer('max_active').nullable();
    t.integer('admit_per_minute').nullable();
    t.integer('window_seconds').notNullable();
    t.bigInteger('updated_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('waiting_rooms');
}
