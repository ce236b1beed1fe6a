import type { Knex } from 'knex';
import * as initial from './20261124000000_initial_schema';
import * as generalAdmission from './20261124300000_general_admission';
import * as userAccess from './20261130000000_user_access';
import * as holdClientIp from './20261130100000_hold_client_ip';
import * as eventHolders from './20261130200000_event_holders';
import * as idempotencyPerEvent from './20261130210000_idempotency_per_event';
import * as webhooks from './20261130220000_webhooks';
import * as waitingRooms from './20261130230000_waiting_rooms';

/**
 * Migrations are listed here rather than discovered on disk so the same list works from TypeScript
 * (tests, tsx) and from the compiled dist/ build. Add new ones at the end, never edit an applied one.
 */
const migrations: Record<string, Knex.Migration> = {
  '20261124000000_initial_schema': initial,
  '20261124300000_general_admission': generalAdmission,
  '20261130000000_user_access': userAccess,
  '20261130100000_hold_client_ip': holdClientIp,
  '20261130200000_event_holders': eventHolders,
  '20261130210000_idempotency_per_event': idempotencyPerEvent,
  '20261130220000_webhooks': webhooks,
  '20261130230000_waiting_rooms': waitingRooms,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name]!,
};
