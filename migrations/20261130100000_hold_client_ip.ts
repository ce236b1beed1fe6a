import type { Knex } from 'knex';

/**
 * `holds.client_ip`: the address a buyer's hold came from, so the per-IP cap on seats held per event
 * (HOLD_CAP_PER_IP, issue 16) can count what one client holds across all the accounts it made. NULL for holds
 * made before this migration and for server-made holds (waitlist offers).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('holds', (t) => {
    t.string('client_ip', 64).nullable();
    t.index(['event_id', 'client_ip', 'status'], 'holds_event_client_ip_status');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('holds', (t) => {
    t.dropIndex(['event_id', 'client_ip', 'status'], 'holds_event_client_ip_status');
    t.dropColumn('client_ip');
  });
}
