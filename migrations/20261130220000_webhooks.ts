import type { Knex } from 'knex';

/**
 * Webhooks (issue 14): endpoints admins register, the transactional outbox of domain events (written in the
 * same transaction as the change it describes), and one delivery per event and subscribed endpoint, with its
 * lease (`claimed_until`) so a node that dies mid-delivery leaves it to another node once the lease lapses.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('webhook_endpoints', (t) => {
    t.increments('id').primary();
    t.string('url', 2048).notNullable();
    t.string('secret', 256).notNullable();
    t.string('event_types', 1000).notNullable(); // JSON array of event types
    t.boolean('enabled').notNullable().defaultTo(true);
    t.string('description', 200).nullable();
    t.integer('version').notNullable().defaultTo(1);
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });

  await knex.schema.createTable('outbox', (t) => {
    t.bigIncrements('id').primary();
    t.string('uid', 36).notNullable().unique(); // the event id receivers deduplicate by
    t.string('type', 64).notNullable();
    t.integer('event_id').nullable(); // the Evently event it is about (filtering, support)
    t.text('data').notNullable(); // JSON
    t.bigInteger('created_at').notNullable();
    t.bigInteger('dispatched_at').nullable(); // fanned out into deliveries
    t.index(['dispatched_at', 'id'], 'outbox_dispatched');
  });

  await knex.schema.createTable('webhook_deliveries', (t) => {
    t.bigIncrements('id').primary();
    t.string('uid', 36).notNullable().unique(); // the delivery id in the Evently-Delivery-Id header
    t.bigInteger('outbox_id').unsigned().notNullable().references('outbox.id').onDelete('CASCADE');
    t.integer('endpoint_id').unsigned().notNullable().references('webhook_endpoints.id').onDelete('CASCADE');
    t.string('status', 16).notNullable(); // pending | delivered | failed
    t.integer('attempts').notNullable().defaultTo(0);
    t.bigInteger('next_attempt_at').notNullable();
    t.bigInteger('retry_from').notNullable(); // start of its day of retries (creation, or the last redeliver)
    t.bigInteger('claimed_until').nullable();
    t.string('claim_token', 32).nullable();
    t.integer('last_status').nullable(); // HTTP status of the last answer
    t.string('last_error', 500).nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.bigInteger('delivered_at').nullable();
    t.unique(['outbox_id', 'endpoint_id']);
    t.index(['status', 'next_attempt_at'], 'webhook_deliveries_due');
    t.index(['endpoint_id', 'id'], 'webhook_deliveries_endpoint');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('webhook_deliveries');
  await knex.schema.dropTable('outbox');
  await knex.schema.dropTable('webhook_endpoints');
}
