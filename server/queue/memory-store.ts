import { ADMISSION_LOG_MAX, ADMISSION_LOG_READ, type Admission, type DoneReason, type LineRules, type LineTotals, type Place, type QueueStore, type TickResult } from './store';

interface Line {
  lobby: Map<number, number>;
  /** userId → ticket; tickets only grow, so insertion order is ticket order. */
  waiting: Map<number, number>;
  active: Map<number, number>;
  done: Map<number, DoneReason>;
  drawn: boolean;
  seq: number;
  head: number;
  admitted: number;
  allowance: number;
  allowanceAt: number;
  log: Admission[];
}

/**
 * The line in this process's memory: the embedded single node (no REDIS_URL). Same rules as RedisQueueStore's
 * Lua scripts (see store.ts); Node runs one operation at a time, so each is atomic as a script is. Lost on restart.
 */
export class MemoryQueueStore implements QueueStore {
  private readonly lines = new Map<number, Line>();

  async join(eventId: number, userId: number, now: number, rules: LineRules, draw: number): Promise<Place & { totals: LineTotals }> {
    const line = this.line(eventId, now, rules);
    expireOne(line, userId, now);
    const place = placeOf(line, userId);
    if (place.state === 'none' || place.state === 'done') {
      line.done.delete(userId);
      if (now < rules.saleStartsAt && !line.drawn) line.lobby.set(userId, draw);
      else line.waiting.set(userId, ++line.seq);
    }
    return { ...placeOf(line, userId), totals: totals(line) };
  }

  async status(eventId: number, userId: number, now: number, rules: LineRules): Promise<Place & { totals: LineTotals }> {
    const line = this.line(eventId, now, rules);
    expireOne(line, userId, now);
    return { ...placeOf(line, userId), totals: totals(line) };
  }

  async leave(eventId: number, userId: number, reason: DoneReason): Promise<boolean> {
    const line = this.lines.get(eventId);
    if (!line) return false;
    const wasActive = line.active.delete(userId);
    const present = line.lobby.delete(userId) || line.waiting.delete(userId) || wasActive;
    if (present) line.done.set(userId, reason);
    return wasActive;
  }

  async tick(eventId: number, now: number, rules: LineRules, sinceSeq: number): Promise<TickResult> {
    const line = this.line(eventId, now, rules);
    const before = line.admitted;
    let expiredNow = 0;
    for (const [userId, until] of line.active) {
      if (until > now) continue;
      line.active.delete(userId);
      line.done.set(userId, 'expired');
      expiredNow++;
    }
    let room = line.drawn ? line.waiting.size : 0;
    if (rules.maxActive !== null) room = Math.min(room, Math.max(0, rules.maxActive - line.active.size));
    if (rules.admitPerMinute !== null && line.drawn) {
      const burst = Math.max(1, rules.admitPerMinute / 30);
      line.allowance = Math.min(burst, line.allowance + (Math.max(0, now - line.allowanceAt) * rules.admitPerMinute) / 60_000);
      line.allowanceAt = Math.max(line.allowanceAt, now);
      room = Math.min(room, Math.floor(line.allowance));
    }
    let admittedNow = 0;
    for (const [userId, ticket] of line.waiting) {
      if (admittedNow >= room) break;
      line.waiting.delete(userId);
      line.active.set(userId, now + rules.windowMs);
      line.head = ticket;
      line.admitted++;
      line.log.push({ seq: line.admitted, userId, until: now + rules.windowMs });
      admittedNow++;
    }
    if (rules.admitPerMinute !== null) line.allowance -= admittedNow;
    if (line.log.length > ADMISSION_LOG_MAX) line.log.splice(0, line.log.length - ADMISSION_LOG_MAX);
    const since = sinceSeq < 0 ? before : sinceSeq;
    const log = line.log.filter((a) => a.seq > since).slice(0, ADMISSION_LOG_READ);
    return { ...totals(line), admittedNow, expiredNow, log };
  }

  async isAdmitted(eventId: number, userId: number, now: number): Promise<boolean> {
    return (this.lines.get(eventId)?.active.get(userId) ?? 0) > now;
  }

  async clear(eventId: number): Promise<void> {
    this.lines.delete(eventId);
  }

  /** The event's line, with the lobby drawn into tickets once the sale has started. */
  private line(eventId: number, now: number, rules: LineRules): Line {
    let line = this.lines.get(eventId);
    if (!line) {
      line = { lobby: new Map(), waiting: new Map(), active: new Map(), done: new Map(), drawn: false, seq: 0, head: 0, admitted: 0, allowance: 0, allowanceAt: now, log: [] };
      this.lines.set(eventId, line);
    }
    if (!line.drawn && now >= rules.saleStartsAt) {
      // Ties in the draw are broken by account id, as Redis breaks equal sorted-set scores by member.
      const order = [...line.lobby].sort((a, b) => a[1] - b[1] || String(a[0]).localeCompare(String(b[0])));
      for (const [userId] of order) line.waiting.set(userId, ++line.seq);
      line.lobby.clear();
      line.drawn = true;
      line.allowance = 1;
      line.allowanceAt = now;
    }
    return line;
  }
}

/** Ends the account's window if it lapsed (so a rejoin goes to the back rather than reading as admitted). */
function expireOne(line: Line, userId: number, now: number): void {
  const until = line.active.get(userId);
  if (until !== undefined && until <= now) {
    line.active.delete(userId);
    line.done.set(userId, 'expired');
  }
}

function placeOf(line: Line, userId: number): Place {
  const until = line.active.get(userId);
  if (until !== undefined) return { state: 'admitted', until };
  const ticket = line.waiting.get(userId);
  if (ticket !== undefined) return { state: 'waiting', ticket };
  if (line.lobby.has(userId)) return { state: 'lobby' };
  const reason = line.done.get(userId);
  return reason ? { state: 'done', reason } : { state: 'none' };
}

function totals(line: Line): LineTotals {
  return { head: line.head, waiting: line.waiting.size, lobby: line.lobby.size, active: line.active.size, admitted: line.admitted, drawn: line.drawn };
}
