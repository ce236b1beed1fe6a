import { hash, verify, type Algorithm, type Options } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';
import { availableParallelism } from 'node:os';

/**
 * `Algorithm.Argon2id` of @node-rs/argon2. Its `Algorithm` is an ambient const enum, which the test transpiler
 * (swc, per file) cannot inline, so the value is spelled here once.
 */
const ARGON2ID = 2 as Algorithm;

/**
 * OWASP Password Storage Cheat Sheet, Argon2id: m=19 MiB, t=2, p=1. The hash runs in libuv's thread pool
 * (a native binding, prebuilt for the platform from the npm registry), so a storm of sign-ins queues there
 * instead of blocking the event loop that serves every socket.
 */
export const ARGON2_OPTIONS: Options = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 };
/** The PHC prefix a hash made with ARGON2_OPTIONS starts with; any other stored hash is rehashed at sign-in. */
const CURRENT_PREFIX = `$argon2id$v=19$m=${ARGON2_OPTIONS.memoryCost},t=${ARGON2_OPTIONS.timeCost},p=${ARGON2_OPTIONS.parallelism}$`;
const BCRYPT = /^\$2[aby]\$\d\d\$/;

/** Result of checking a password against a stored hash. */
export interface PasswordCheck {
  ok: boolean;
  /** The stored hash is a legacy bcrypt one or uses other parameters: store `hash(password)` now. */
  needsRehash: boolean;
}

/**
 * Hashes new passwords with Argon2id and verifies both Argon2id and legacy bcrypt hashes. At most `concurrency`
 * Argon2 computations run at once (default: cores - 1, at least 1): off the main thread is not enough if four
 * pool threads take every core from it, so in a storm sign-ins wait in this queue and the event loop keeps a core.
 */
export class PasswordHasher {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly concurrency = Math.max(1, availableParallelism() - 1)) {}

  /** An Argon2id PHC string (~97 characters). */
  hash(password: string): Promise<string> {
    return this.limited(() => hash(password, ARGON2_OPTIONS));
  }

  private async limited<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) await new Promise<void>((r) => this.waiting.push(r));
    else this.running++;
    try {
      return await work();
    } finally {
      // Hand the slot straight to the next waiter (running stays the same), or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  /**
   * bcrypt hashes from before Argon2id are still accepted (bcryptjs, on the main thread: paid once per user,
   * since a successful sign-in replaces the hash). Anything unrecognised fails closed.
   */
  async verify(stored: string, password: string): Promise<PasswordCheck> {
    if (stored.startsWith('$argon2')) {
      const ok = await this.limited(() => verify(stored, password)).catch(() => false);
      return { ok, needsRehash: ok && !stored.startsWith(CURRENT_PREFIX) };
    }
    if (BCRYPT.test(stored)) {
      const ok = await bcrypt.compare(password, stored);
      return { ok, needsRehash: ok };
    }
    return { ok: false, needsRehash: false };
  }
}
