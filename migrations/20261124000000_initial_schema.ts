import type { Knex } from 'knex';

/**
 * The whole domain. One schema for MySQL/MariaDB and SQLite: times are BIGINT milliseconds since the epoch
 * (no DATETIME/time-zone differences between dialects), money is integer cents, enums are short strings
 * checked by the application.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.increments('id').primary();
    t.string('email', 254).notNullable().unique();
    t.string('name', 120).notNullable();
    t.string('password_hash', 100).notNullable();
    t.string('role', 16).notNullable().defaultTo('user'); // admin | box_office | user
    t.bigInteger('created_at').notNullable();
  });

  await knex.schema.createTable('venues', (t) => {
    t.increments('id').primary();
    t.string('name', 200).notNullable();
    t.string('address', 300).nullable();
    t.integer('version').notNullable().defaultTo(1);
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });

  // A section is a block of seats, or a general-admission area with a capacity and no seats.
  await knex.schema.createTable('sections', (t) => {
    t.increments('id').primary();
    t.integer('venue_id').unsigned().notNullable().references('venues.id').onDelete('CASCADE');
    t.string('name', 80).notNullable();
    t.string('kind', 16).notNullable().defaultTo('seated'); // seated | ga
    t.integer('capacity').nullable(); // ga only
    t.string('category', 40).nullable(); // ga only: price category
    t.integer('sort_order').notNullable().defaultTo(0);
    t.unique(['venue_id', 'name']);
  });

  await knex.schema.createTable('seats', (t) => {
    t.increments('id').primary();
    t.integer('venue_id').unsigned().notNullable().references('venues.id').onDelete('CASCADE');
    t.integer('section_id').unsigned().notNullable().references('sections.id').onDelete('CASCADE');
    t.string('row_label', 10).notNullable();
    t.integer('number').notNullable();
    t.string('label', 60).notNullable(); // display label, e.g. "Stalls A-12"
    t.float('x').notNullable();
    t.float('y').notNullable();
    t.string('category', 40).notNullable();
    t.boolean('accessible').notNullable().defaultTo(false);
    t.unique(['venue_id', 'label']);
    t.index(['section_id', 'row_label', 'number']);
  });

  await knex.schema.createTable('events', (t) => {
    t.increments('id').primary();
    t.integer('venue_id').unsigned().notNullable().references('venues.id');
    t.string('name', 200).notNullable();
    t.text('description').nullable();
    t.bigInteger('starts_at').notNullable();
    t.bigInteger('ends_at').nullable();
    t.string('status', 16).notNullable().defaultTo('draft'); // draft | on_sale | closed | cancelled
    t.integer('hold_ttl_seconds').notNullable().defaultTo(600);
    t.integer('max_hold_life_seconds').notNullable().defaultTo(1800); // cap on extensions
    t.integer('max_seats_per_order').notNullable().defaultTo(10);
    t.integer('max_seats_per_user').notNullable().defaultTo(10);
    t.integer('version').notNullable().defaultTo(1);
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.index(['status', 'starts_at']);
  });

  await knex.schema.createTable('event_prices', (t) => {
    t.integer('event_id').unsigned().notNullable().references('events.id').onDelete('CASCADE');
    t.string('category', 40).notNullable();
    t.integer('price_cents').notNullable();
    t.primary(['event_id', 'category']);
  });

  await knex.schema.createTable('holds', (t) => {
    t.increments('id').primary();
    t.string('token', 64).notNullable().unique();
    t.integer('event_id').unsigned().notNullable().references('events.id');
    t.integer('user_id').unsigned().notNullable().references('users.id'); // who holds (box office for walk-ins)
    t.string('customer_name', 120).nullable(); // walk-in customer a box office holds for
    t.string('customer_email', 254).nullable();
    t.string('status', 16).notNullable().defaultTo('active'); // active | released | expired | booked
    t.string('source', 16).notNullable().defaultTo('user'); // user | box_office | waitlist
    t.bigInteger('expires_at').notNullable();
    t.bigInteger('max_expires_at').notNullable();
    t.bigInteger('created_at').notNullable();
    t.index(['status', 'expires_at']); // the sweeper
    t.index(['event_id', 'user_id', 'status']); // per-user limits
  });

  await knex.schema.createTable('bookings', (t) => {
    t.increments('id').primary();
    t.string('reference', 20).notNullable().unique();
    t.integer('event_id').unsigned().notNullable().references('events.id');
    t.integer('user_id').unsigned().notNullable().references('users.id');
    t.integer('hold_id').unsigned().nullable().references('holds.id');
    t.string('idempotency_key', 100).notNullable();
    t.string('customer_name', 120).nullable();
    t.string('customer_email', 254).nullable();
    t.string('status', 16).notNullable().defaultTo('confirmed'); // confirmed | cancelled
    t.integer('total_cents').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('cancelled_at').nullable();
    t.unique(['user_id', 'idempotency_key']);
    t.index(['event_id', 'status']);
  });

  await knex.schema.createTable('event_seats', (t) => {
    t.integer('event_id').unsigned().notNullable().references('events.id').onDelete('CASCADE');
    t.integer('seat_id').unsigned().notNullable().references('seats.id');
    t.string('status', 16).notNullable().defaultTo('available'); // available | held | booked | blocked
    t.integer('version').notNullable().defaultTo(1);
    t.integer('hold_id').unsigned().nullable();
    t.bigInteger('hold_expires_at').nullable();
    t.integer('booking_id').unsigned().nullable();
    t.integer('price_cents').notNullable();
    t.primary(['event_id', 'seat_id']);
    t.index(['hold_id']);
    t.index(['booking_id']);
  });

  await knex.schema.createTable('booking_seats', (t) => {
    t.increments('id').primary();
    t.integer('booking_id').unsigned().notNullable().references('bookings.id').onDelete('CASCADE');
    t.integer('event_id').unsigned().notNullable();
    t.integer('seat_id').unsigned().notNullable();
    t.integer('price_cents').notNullable();
    // 1 while the booking is active, NULL once cancelled: NULLs never collide in a unique index on either
    // dialect, so this index allows one active booking per seat and any number of cancelled ones.
    t.boolean('active').nullable().defaultTo(true);
    t.unique(['event_id', 'seat_id', 'active'], { indexName: 'booking_seats_one_active_per_seat' });
    t.index(['booking_id']);
  });

  await knex.schema.createTable('waitlist_entries', (t) => {
    t.increments('id').primary();
    t.integer('event_id').unsigned().notNullable().references('events.id');
    t.integer('user_id').unsigned().notNullable().references('users.id');
    t.integer('party_size').notNullable();
    t.string('section', 80).nullable();
    t.string('category', 40).nullable();
    t.boolean('together').notNullable().defaultTo(false);
    t.string('status', 16).notNullable().defaultTo('waiting'); // waiting | offered | accepted | declined | lapsed | cancelled
    t.integer('offer_hold_id').unsigned().nullable();
    t.bigInteger('offer_expires_at').nullable();
    t.integer('version').notNullable().defaultTo(1);
    t.bigInteger('created_at').notNullable();
    t.index(['event_id', 'status', 'id']);
    t.index(['user_id']);
  });

  // Append-only log of every seat transition; the reconnect cursor is its id.
  await knex.schema.createTable('seat_changes', (t) => {
    t.bigIncrements('id').primary();
    t.integer('event_id').unsigned().notNullable();
    t.integer('seat_id').unsigned().notNullable();
    t.string('from_status', 16).notNullable();
    t.string('to_status', 16).notNullable();
    t.integer('version').notNullable();
    t.integer('actor_id').unsigned().nullable();
    t.string('reason', 32).notNullable();
    t.integer('hold_id').unsigned().nullable();
    t.integer('booking_id').unsigned().nullable();
    t.bigInteger('hold_expires_at').nullable();
    t.bigInteger('created_at').notNullable();
    t.index(['event_id', 'id']);
    t.index(['event_id', 'seat_id', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'seat_changes',
    'waitlist_entries',
    'booking_seats',
    'event_seats',
    'bookings',
    'holds',
    'event_prices',
    'events',
    'seats',
    'sections',
    'venues',
    'users',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
