import type { Cluster, Redis } from 'ioredis';
import { JOIN, LEAVE, STATUS, TICK } from './lua';
import { ADMISSION_LOG_MAX, ADMISSION_LOG_READ, type Admission, type DoneReason, type LineRules, type LineTotals, type Place, type QueueStore, type TickResult } from './store';

/** A line untouched this long (no tick: queue off, event over) expires from Redis. */
const IDLE_TTL_MS = 7 * 24 * 3600 * 1000;

type Script = (...args: (string | number)[]) => Promise<unknown>;
interface Scripts {
  queueJoin: Script;
  queueStatus: Script;
  queueLeave: Script;
  queueTick: Script;
}

/**
 * The line in Redis (REDIS_URL or REDIS_CLUSTER_NODES): shared by every node and kept across node restarts. Every
 * change is one Lua script (lua.ts), atomic per event; the keys of an event share the hash tag `{event:<id>}`, so
 * on a Redis Cluster they live in one slot and a script may touch them all.
 */
export class RedisQueueStore implements QueueStore {
  private readonly scripts: Scripts;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix: string,
  ) {
    // defineCommand sends EVALSHA and falls back to EVAL once per connection (NOSCRIPT), on a cluster too.
    for (const [name, lua] of [['queueJoin', JOIN], ['queueStatus', STATUS], ['queueLeave', LEAVE], ['queueTick', TICK]] as const) {
      if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: 6, lua });
    }
    this.scripts = redis as unknown as Scripts;
  }

  async join(eventId: number, userId: number, now: number, rules: LineRules, draw: number): Promise<Place & { totals: LineTotals }> {
    return placeReply((await this.scripts.queueJoin(...this.keys(eventId), now, rules.saleStartsAt, userId, String(draw))) as string[]);
  }

  async status(eventId: number, userId: number, now: number, rules: LineRules): Promise<Place & { totals: LineTotals }> {
    return placeReply((await this.scripts.queueStatus(...this.keys(eventId), now, rules.saleStartsAt, userId)) as string[]);
  }

  async leave(eventId: number, userId: number, reason: DoneReason): Promise<boolean> {
    return Number(await this.scripts.queueLeave(...this.keys(eventId), userId, reason)) === 1;
  }

  async tick(eventId: number, now: number, rules: LineRules, sinceSeq: number): Promise<TickResult> {
    const reply = (await this.scripts.queueTick(
      ...this.keys(eventId),
      now,
      rules.saleStartsAt,
      rules.maxActive ?? -1,
      rules.admitPerMinute ?? -1,
      rules.windowMs,
      sinceSeq,
      ADMISSION_LOG_MAX,
      ADMISSION_LOG_READ,
      IDLE_TTL_MS,
    )) as (string | number)[];
    const log: Admission[] = reply.slice(8).map((entry) => {
      const [seq, userId, until] = String(entry).split(':').map(Number) as [number, number, number];
      return { seq, userId, until };
    });
    return { admittedNow: Number(reply[0]), expiredNow: Number(reply[1]), ...totalsOf(reply.slice(2, 8)), log };
  }

  async isAdmitted(eventId: number, userId: number, now: number): Promise<boolean> {
    const until = await this.redis.zscore(this.keys(eventId)[2], String(userId));
    return until !== null && Number(until) > now;
  }

  async clear(eventId: number): Promise<void> {
    // One DEL per key: a multi-key DEL is fine here (one slot), but this reads the same on any topology.
    for (const key of this.keys(eventId)) await this.redis.del(key);
  }

  private keys(eventId: number): [string, string, string, string, string, string] {
    const base = `${this.prefix}:queue:{event:${eventId}}`;
    return [`${base}:lobby`, `${base}:waiting`, `${base}:active`, `${base}:done`, `${base}:meta`, `${base}:log`];
  }
}

function totalsOf(t: (string | number)[]): LineTotals {
  return { head: Number(t[0]), waiting: Number(t[1]), lobby: Number(t[2]), active: Number(t[3]), admitted: Number(t[4]), drawn: String(t[5]) === '1' };
}

function placeReply(reply: (string | number)[]): Place & { totals: LineTotals } {
  const totals = totalsOf(reply.slice(2, 8));
  const value = String(reply[1]);
  switch (String(reply[0])) {
    case 'admitted':
      return { state: 'admitted', until: Number(value), totals };
    case 'waiting':
      return { state: 'waiting', ticket: Number(value), totals };
    case 'lobby':
      return { state: 'lobby', totals };
    case 'done':
      return { state: 'done', reason: value as DoneReason, totals };
    default:
      return { state: 'none', totals };
  }
}
