import type { Db } from '../db/knex';
import type { QueueConfigBody, QueueConfigView } from '../contracts/queue';
import { SingleFlight } from '../shared/single-flight';
import type { LineRules } from './store';

/** One event's waiting room as stored (times in epoch ms). */
export interface WaitingRoomConfig {
  eventId: number;
  enabled: boolean;
  opensAt: number;
  saleStartsAt: number;
  maxActive: number | null;
  admitPerMinute: number | null;
  windowSeconds: number;
  /** The event's sale status (read with the row, so a buyer's join costs no query of its own). */
  eventStatus: string;
}

/**
 * How long a node trusts its copy of an event's configuration. Every hold asks "is the queue on here?", so it
 * must not cost a query; a change made on another node reaches this one within this time (and one read).
 */
const CACHE_MS = 1000;

/**
 * How much longer an older copy still answers at once while one read refreshes it in the background. Without this,
 * every hold that arrived while the once-a-second read was out waited for it: in a flash sale's rush 7% of holds,
 * 34 ms at the median and up to 137 ms, waiting for a pool connection (load/README.md, issue 17, "the waiting
 * room's settings refreshed behind the holds"). Past it (a node idle for a while, or a database that stopped
 * answering) callers wait for the read, and see its error.
 */
const STALE_MS = 10_000;

interface Row {
  event_id: number;
  enabled: number | boolean;
  opens_at: number | string;
  sale_starts_at: number | string;
  max_active: number | null;
  admit_per_minute: number | null;
  window_seconds: number;
  event_status: string;
}

/** The `waiting_rooms` table, with a short per-node cache (see CACHE_MS and STALE_MS). */
export class WaitingRoomConfigs {
  private readonly cache = new Map<number, { at: number; config: WaitingRoomConfig | null }>();
  /**
   * The read in flight per event: every caller while the entry is stale waits for the same one. Without it,
   * every hold that came in while the read was out sent a read of its own: in a flash sale's rush (each answer
   * waits for a turn of a busy event loop) that was about 950 reads in 20 s instead of one a second per node.
   * A write detaches it, so its answer (possibly read before the write) is not cached.
   */
  private readonly reading = new SingleFlight<number, WaitingRoomConfig | null>();

  constructor(
    private readonly db: Db,
    /** Milliseconds for the cache's age (real time, not the injectable clock: the copy ages as it is served); tests move it. */
    private readonly now: () => number = Date.now,
  ) {}

  async get(eventId: number): Promise<WaitingRoomConfig | null> {
    const hit = this.cache.get(eventId);
    const now = this.now();
    if (hit && hit.at > now - CACHE_MS) return hit.config;
    const read = this.reading.run(
      eventId,
      () => this.read(eventId),
      (config) => {
        if (this.cache.size > 10_000) this.cache.clear();
        this.cache.set(eventId, { at: this.now(), config });
      },
    );
    if (!hit || hit.at <= now - CACHE_MS - STALE_MS) return read;
    // Answered from the older copy; the read refreshes it. A failed read keeps the copy, and the next call (after
    // the single flight ended) tries again.
    read.catch(() => undefined);
    return hit.config;
  }

  private async read(eventId: number): Promise<WaitingRoomConfig | null> {
    const row = (await this.db('waiting_rooms as w').join('events as e', 'e.id', 'w.event_id').where('w.event_id', eventId).first('w.*', 'e.status as event_status')) as Row | undefined;
    return row ? fromRow(row) : null;
  }

  async put(eventId: number, body: QueueConfigBody, now: number): Promise<WaitingRoomConfig> {
    const row = {
      enabled: body.enabled,
      opens_at: Date.parse(body.opensAt),
      sale_starts_at: Date.parse(body.saleStartsAt),
      max_active: body.maxActive ?? null,
      admit_per_minute: body.admitPerMinute ?? null,
      window_seconds: body.windowSeconds,
      updated_at: now,
    };
    await this.db('waiting_rooms').insert({ event_id: eventId, ...row }).onConflict('event_id').merge(row);
    this.cache.delete(eventId);
    // A read already in flight may have started before this write: detach it, and read afresh.
    this.reading.detach(eventId);
    return (await this.get(eventId))!;
  }

  /** Events whose waiting room is on (the ticker's work list). */
  async enabledEvents(): Promise<WaitingRoomConfig[]> {
    const rows = (await this.db('waiting_rooms as w').join('events as e', 'e.id', 'w.event_id').where('w.enabled', true).limit(1000).select('w.*', 'e.status as event_status')) as Row[];
    const configs = rows.map(fromRow);
    for (const c of configs) this.cache.set(c.eventId, { at: this.now(), config: c });
    return configs;
  }
}

function fromRow(r: Row): WaitingRoomConfig {
  return {
    eventId: Number(r.event_id),
    enabled: !!r.enabled,
    opensAt: Number(r.opens_at),
    saleStartsAt: Number(r.sale_starts_at),
    maxActive: r.max_active === null ? null : Number(r.max_active),
    admitPerMinute: r.admit_per_minute === null ? null : Number(r.admit_per_minute),
    windowSeconds: Number(r.window_seconds),
    eventStatus: r.event_status,
  };
}

export function rulesOf(c: WaitingRoomConfig): LineRules {
  return { saleStartsAt: c.saleStartsAt, maxActive: c.maxActive, admitPerMinute: c.admitPerMinute, windowMs: c.windowSeconds * 1000 };
}

export function configView(c: WaitingRoomConfig): QueueConfigView {
  return {
    eventId: c.eventId,
    enabled: c.enabled,
    opensAt: new Date(c.opensAt).toISOString(),
    saleStartsAt: new Date(c.saleStartsAt).toISOString(),
    maxActive: c.maxActive,
    admitPerMinute: c.admitPerMinute,
    windowSeconds: c.windowSeconds,
  };
}
