/**
 * Time source. Every service reads time from an injected Clock so tests can move it; the database stores
 * times as integer milliseconds since the epoch, which means the same thing on MySQL and SQLite.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock tests can move forward; it starts at the real time so JWT `exp` checks stay meaningful. */
export class ManualClock implements Clock {
  private offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  advance(ms: number): void {
    this.offset += ms;
  }
}
