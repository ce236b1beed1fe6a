import type { Db } from '../db/knex';
import { isDuplicateKey } from '../db/transaction';
import type { Clock } from '../shared/clock';
import { AccessRevokedError, ConflictError, NotFoundError, UnauthorizedError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { AuthUser, Role } from '../shared/auth-user';
import type { UpdateUserBody, UserView } from '../contracts/accounts';
import { PasswordHasher } from './passwords';
import type { TokenService } from './tokens';
import type { UserAccess } from './user-access';
import { UserModel } from './user-model';

export interface AccountsDeps {
  db: Db;
  clock: Clock;
  tokens: TokenService;
  access: UserAccess;
  logger?: Logger;
}

function toView(u: UserModel): UserView {
  return { id: u.id, email: u.email, name: u.name, role: u.role, active: Boolean(u.active), createdAt: new Date(Number(u.created_at)).toISOString() };
}

const sign = (tokens: TokenService, u: UserModel): string =>
  tokens.sign({ id: u.id, role: u.role, email: u.email, name: u.name, tokenVersion: Number(u.token_version ?? 0) });

/** Accounts: registration, login, profile, and staff accounts created from the CLI. */
export class AccountsService {
  private readonly passwords = new PasswordHasher();
  /** Verified against when the email is unknown, so both failures cost the same time (made once, lazily). */
  private dummyHash?: Promise<string>;

  constructor(private readonly deps: AccountsDeps) {}

  /** Self-service sign-up always creates role `user`; staff come from `createUser` (CLI/admin). */
  async register(input: { email: string; password: string; name: string }): Promise<{ user: UserView; token: string }> {
    const user = await this.createUser({ ...input, role: 'user' });
    // A new row starts at token version 0 (the column default).
    return { user, token: this.deps.tokens.sign({ ...user, tokenVersion: 0 }) };
  }

  async createUser(input: { email: string; password: string; name: string; role: Role }): Promise<UserView> {
    const hash = await this.passwords.hash(input.password);
    try {
      const [id] = await this.deps.db('users').insert({
        email: input.email,
        name: input.name,
        password_hash: hash,
        role: input.role,
        created_at: this.deps.clock.now(),
      });
      return this.me(Number(id));
    } catch (err) {
      if (isDuplicateKey(err)) throw new ConflictError('EMAIL_TAKEN', 'An account with this email already exists');
      throw err;
    }
  }

  /** Unknown email and wrong password give the same 401, in about the same time. */
  async login(input: { email: string; password: string }): Promise<{ user: UserView; token: string }> {
    const row = await UserModel.query(this.deps.db).findOne({ email: input.email });
    const stored = row?.password_hash ?? (await (this.dummyHash ??= this.passwords.hash('not-a-real-password')));
    const check = await this.passwords.verify(stored, input.password);
    if (!row || !check.ok) throw new UnauthorizedError('Email or password is incorrect', 'INVALID_CREDENTIALS');
    // Said only to someone who knows the password.
    if (!row.active) throw new AccessRevokedError('deactivated');
    if (check.needsRehash) await this.rehash(row.id, row.password_hash, input.password);
    return { user: toView(row), token: sign(this.deps.tokens, row) };
  }

  /**
   * Replaces a legacy (bcrypt) or outdated hash after a successful sign-in. Compare-and-set on the old hash, so
   * a password changed meanwhile is not overwritten; a failure only costs another rehash next time.
   */
  private async rehash(userId: number, oldHash: string, password: string): Promise<void> {
    try {
      const next = await this.passwords.hash(password);
      await this.deps.db('users').where({ id: userId, password_hash: oldHash }).update({ password_hash: next });
    } catch (err) {
      this.deps.logger?.warn({ err, userId }, 'password rehash failed; will retry at the next sign-in');
    }
  }

  /**
   * Admin: change a user's role and/or deactivate or reactivate them, effective at once on every node.
   * Deactivation bumps the token version, so tokens issued before stay dead even after a reactivation; a role
   * change needs no bump (the role is read from the row on every check, see UserAccess). An admin cannot change
   * their own role or deactivate themselves, so the last admin cannot lock everyone out by mistake.
   */
  async updateAccess(actor: AuthUser, userId: number, patch: UpdateUserBody): Promise<UserView> {
    if (actor.id === userId) throw new ConflictError('CANNOT_CHANGE_OWN_ACCESS', 'Ask another admin to change your own role or status');
    const db = this.deps.db;
    const row = await UserModel.query(db).findById(userId);
    if (!row) throw new NotFoundError('User', 'USER_NOT_FOUND');
    const wasActive = Boolean(row.active);
    const changes: Record<string, unknown> = {};
    if (patch.role !== undefined && patch.role !== row.role) changes.role = patch.role;
    if (patch.active === false && wasActive) {
      changes.active = false;
      changes.deactivated_at = this.deps.clock.now();
      changes.token_version = db.raw('token_version + 1');
    } else if (patch.active === true && !wasActive) {
      changes.active = true;
      changes.deactivated_at = null;
    }
    if (Object.keys(changes).length > 0) {
      const n = await db('users').where({ id: userId }).update(changes);
      if (!n) throw new NotFoundError('User', 'USER_NOT_FOUND');
      this.deps.logger?.info({ actorId: actor.id, userId, from: { role: row.role, active: wasActive }, to: patch }, 'user access changed');
      await this.deps.access.changed(userId);
    }
    return this.me(userId);
  }

  async me(userId: number): Promise<UserView> {
    const row = await UserModel.query(this.deps.db).findById(userId);
    if (!row) throw new NotFoundError('User', 'USER_NOT_FOUND');
    return toView(row);
  }

  /** Public identity of a user, for box office views. */
  async findByIds(ids: number[]): Promise<Map<number, UserView>> {
    if (ids.length === 0) return new Map();
    const rows = await UserModel.query(this.deps.db).findByIds(ids);
    return new Map(rows.map((r) => [r.id, toView(r)]));
  }
}
