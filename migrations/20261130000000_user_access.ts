import type { Knex } from 'knex';

/**
 * Per-user access state, checked on every authenticated request (issue 16):
 * - `token_version`: tokens carry the version they were signed at (`tv`); bumping it (deactivation) makes every
 *   token issued before unusable at once, and reactivation does not bring them back.
 * - `active` / `deactivated_at`: a deactivated user can neither sign in nor use an existing token.
 * - `password_hash` widened: Argon2id PHC strings are ~97 characters, close to the old 100; SQLite does not
 *   enforce VARCHAR lengths, so only MySQL/MariaDB needs the ALTER.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.integer('token_version').notNullable().defaultTo(0);
    t.boolean('active').notNullable().defaultTo(true);
    t.bigInteger('deactivated_at').nullable();
  });
  if (knex.client.config.client === 'mysql2') {
    await knex.schema.alterTable('users', (t) => {
      t.string('password_hash', 255).notNullable().alter();
    });
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('token_version');
    t.dropColumn('active');
    t.dropColumn('deactivated_at');
  });
}
