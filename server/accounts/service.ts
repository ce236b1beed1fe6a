import bcrypt from 'bcryptjs';
import type { Db } from '../db/knex';
import { isDuplicateKey } from '../db/transaction';
import type { Clock } from '../shared/clock';
import { ConflictError, NotFoundError, UnauthorizedError } from '../shared/errors';
import type { Role } from './auth-user';
import type { UserView } from './schemas';
import type { TokenService } from './tokens';
import { UserModel } from './user-model';

export interface AccountsDeps {
  db: Db;
  clock: Clock;
  tokens: TokenService;
  bcryptCost: number;
}

function toView(u: UserModel): UserView {
  return { id: u.id, email: u.email, name: u.name, role: u.role, createdAt: new Date(Number(u.created_at)).toISOString() };
}

/** Accounts: registration, login, profile, and staff accounts created from the CLI. */
export class AccountsService {
  /** Compared against when the email is unknown, so both failures cost the same time. */
  private readonly dummyHash: string;

  constructor(private readonly deps: AccountsDeps) {
    this.dummyHash = bcrypt.hashSync('not-a-real-password', deps.bcryptCost);
  }

  /** Self-service sign-up always creates role `user`; staff come from `createUser` (CLI/admin). */
  async register(input: { email: string; password: string; name: string }): Promise<{ user: UserView; token: string }> {
    const user = await this.createUser({ ...input, role: 'user' });
    return { user, token: this.deps.tokens.sign(user) };
  }

  async createUser(input: { email: string; password: string; name: string; role: Role }): Promise<UserView> {
    const hash = await bcrypt.hash(input.password, this.deps.bcryptCost);
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
    const ok = await bcrypt.compare(input.password, row?.password_hash ?? this.dummyHash);
    if (!row || !ok) throw new UnauthorizedError('Email or password is incorrect', 'INVALID_CREDENTIALS');
    const user = toView(row);
    return { user, token: this.deps.tokens.sign(user) };
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
