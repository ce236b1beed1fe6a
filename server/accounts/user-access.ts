import type { Db } from '../db/knex';
import { batchedRead } from '../db/batched-read';
import type { Clock } from '../shared/clock';
import { AccessRevokedError } from '../shared/errors';
import { SingleFlight } from '../shared/single-flight';
import type { AuthUser, Role } from '../shared/auth-user';
import type { TokenService } from './tokens';

/** What authorization needs to know about a user right now. */
export interface UserAccessState {
  role: Role;
  email: string;
  name: string;
  active: boolean;
  tokenVersion: number;
}

/**
 * Carries "user N changed" between nodes: Redis pub/sub with several nodes, a local call with one. Delivery is at
 * most once (a Redis restart can drop a message), which is why cached states also expire (AUTH_CACHE_SECONDS).
 */
export interface AccessBus {
  publish(userId: number): Promise<void>;
  /** Called for every change, including this node's own. */
  subscribe(listener: (userId: number) => void): void;
}

/** The one-node bus: a change is delivered to this node's listeners only. */
export function localAccessBus(): AccessBus {
  const listeners: ((userId: number) => void)[] = [];
  return {
    publish: async (userId) => {
      for (const l of listeners) l(userId);
    },
    subscribe: (l) => void listeners.push(l),
  };
}

export interface UserAccessDeps {
  db: Db;
  clock: Clock;
  tokens: TokenService;
  bus: AccessBus;
  /** How long a user's state is trusted without reading it again (0: read on every check). */
  cacheMs: number;
}

/** Bound on cached users per node, so a crowd of one-off visitors cannot grow it without limit. */
const MAX_CACHED = 50_000;

type Entry = { state: UserAccessState | null; at: number };

type UserRow = { role: Role; email: string; name: string; active: boolean | number; token_version: number };

/**
 * Checks tokens against the user's current state: the row must exist, be active, and have the token version the
 * token was signed at; the role, email and name come from the row, not the token, so a demotion applies to tokens
 * already issued. States are cached per node for `cacheMs`; a change (AccountsService.updateAccess) drops the entry
 * on every node through the bus and tells listeners (open sockets re-check their user).
 */
export class UserAccess {
  private readonly cache = new Map<number, Entry>();
  /** One read per user at a time; an invalidation detaches it so its stale answer is not cached. */
  private readonly loads = new SingleFlight<number, UserAccessState | null>();
  private readonly listeners: ((userId: number) => void)[] = [];
  /** Users' rows, read together with the other users asked for in the same turn (a join storm's handshakes). */
  private readonly readRow: (userId: number) => Promise<UserRow | undefined>;

  constructor(private readonly deps: UserAccessDeps) {
    this.readRow = batchedRead(async (ids) => {
      const rows = (await deps.db('users').whereIn('id', ids).select('id', 'role', 'email', 'name', 'active', 'token_version')) as (UserRow & { id: number })[];
      return new Map(rows.map((r) => [Number(r.id), r]));
    });
    deps.bus.subscribe((userId) => {
      this.invalidate(userId);
      for (const l of this.listeners) l(userId);
    });
  }

  /** Verifies a bearer token and checks it against the user's current state; throws 401 otherwise. */
  async authenticate(token: string): Promise<AuthUser> {
    return this.current(this.deps.tokens.verify(token));
  }

  /** The user of an already verified token, as they are now; throws AccessRevokedError (401) when gone. */
  async current(user: AuthUser): Promise<AuthUser> {
    const state = await this.state(user.id);
    if (!state) throw new AccessRevokedError('gone');
    if (!state.active) throw new AccessRevokedError('deactivated');
    if (state.tokenVersion !== user.tokenVersion) throw new AccessRevokedError('revoked');
    if (state.role === user.role && state.email === user.email && state.name === user.name) return user;
    return { ...user, role: state.role, email: state.email, name: state.name };
  }

  /** After a committed change to a user's access: forget it here and on every other node. */
  async changed(userId: number): Promise<void> {
    this.invalidate(userId);
    await this.deps.bus.publish(userId);
  }

  /** Listens for changed users (this node's and other nodes'), after their cached state was dropped. */
  onChange(listener: (userId: number) => void): void {
    this.listeners.push(listener);
  }

  private invalidate(userId: number): void {
    this.cache.delete(userId);
    this.loads.detach(userId);
  }

  private async state(userId: number): Promise<UserAccessState | null> {
    const now = this.deps.clock.now();
    const hit = this.cache.get(userId);
    if (hit && now - hit.at < this.deps.cacheMs) return hit.state;
    return this.loads.run(
      userId,
      () => this.read(userId),
      (state) => {
        if (this.deps.cacheMs <= 0) return;
        this.cache.delete(userId);
        if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value as number);
        this.cache.set(userId, { state, at: now });
      },
    );
  }

  private async read(userId: number): Promise<UserAccessState | null> {
    const row = await this.readRow(userId);
    if (!row) return null;
    return { role: row.role, email: row.email, name: row.name, active: Boolean(row.active), tokenVersion: Number(row.token_version) };
  }
}
