import type { Knex } from 'knex';

/**
 * General admission: an area (a section with kind='ga') has a capacity and no seats, so per event it is a
 * counter row rather than seat rows. `held` and `booked` change only by a version-checked UPDATE that also
 * checks `capacity - held - booked >= n`, so the area can never be oversold. Holds and bookings carry GA
 * tickets as lines (quantity per area), alongside their seats.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('event_ga_areas', (t) => {
    t.integer('event_id').unsigned().notNullable().references('events.id').onDelete('CASCADE');
    t.integer('section_id').unsigned().notNullable().references('sections.id');
    t.integer('capacity').notNullable();
    t.integer('held').notNullable().defaultTo(0);
    t.integer('booked').notNullable().defaultTo(0);
    t.integer('version').notNullable().defaultTo(1);
    t.integer('price_cents').notNullable();
    t.primary(['event_id', 'section_id']);
  });

  await knex.schema.createTable('hold_ga_lines', (t) => {
    t.increments('id').primary();
    t.integer('hold_id').unsigned().notNullable().references('holds.id');
    t.integer('event_id').unsigned().notNullable();
    t.integer('section_id').unsigned().notNullable();
    t.integer('quantity').notNullable();
    t.integer('price_cents').notNullable();
    t.unique(['hold_id', 'section_id']);
  });

  await knex.schema.createTable('booking_ga_lines', (t) => {
    t.increments('id').primary();
    t.integer('booking_id').unsigned().notNullable().references('bookings.id').onDelete('CASCADE');
    t.integer('event_id').unsigned().notNullable();
    t.integer('section_id').unsigned().notNullable();
    t.integer('quantity').notNullable();
    t.integer('price_cents').notNullable();
    t.boolean('active').nullable().defaultTo(true); // NULL once the booking is cancelled
    t.index(['booking_id']);
    t.index(['event_id', 'section_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['booking_ga_lines', 'hold_ga_lines', 'event_ga_areas']) await knex.schema.dropTableIfExists(table);
}
