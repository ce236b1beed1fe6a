import { Model } from 'objection';
import type { Role } from '../shared/auth-user';

/** Row of `users`. Always queried with an explicit knex/trx (`UserModel.query(db)`), never a global one. */
export class UserModel extends Model {
  static override tableName = 'users';
  id!: number;
  email!: string;
  name!: string;
  password_hash!: string;
  role!: Role;
  created_at!: number;
  token_version!: number;
  /** 1/0 on SQLite and MySQL (TINYINT), true/false from some drivers: read with Boolean(). */
  active!: boolean | number;
  deactivated_at!: number | null;
}
