import type { BinaryField, CompactSeatsChanged, CompactSeatsSnapshot, SeatState, SeatStatus, SeatsChanged, SeatsSnapshot } from '../contracts';

/**
 * The compact seat-state codec (protocol form `format: 'compact'`), shared by the server, client-demo and load/.
 * Dependency-free and browser-safe: Uint8Array only, no Buffer, no zlib. The decision and its figures are in
 * docs/DESIGN.md ("Compact seat state").
 *
 * Seats travel in the order of the venue layout (`GET /api/events/:id/layout`, its `seats` array): a seat is its
 * index there. Status is one byte per seat; versions are unsigned LEB128 varints (one byte while a seat has
 * changed fewer than 128 times, which is nearly every seat of nearly every event); hold expiries are one varint
 * per `held` seat, in the same order as those seats: 1 + milliseconds after `expiresBase` (the earliest of
 * them), 0 for none; holds last minutes, so that is three bytes where epoch milliseconds in JSON take fourteen.
 */

/** Status byte values; the index in this list is the byte. */
export const STATUS_CODES: readonly SeatStatus[] = ['available', 'held', 'booked', 'blocked'];
/** Status byte of a layout seat that has no state in this event (never sent by a consistent server). */
export const STATUS_ABSENT = 255;

const STATUS_BYTE: Record<SeatStatus, number> = { available: 0, held: 1, booked: 2, blocked: 3 };

/** The seat order of one layout version: `ids[i]` is the seat at index i. */
export interface LayoutOrder {
  version: string;
  ids: readonly number[];
  /** Seat id → index; built once per layout (see `layoutOrder`). */
  indexOf: ReadonlyMap<number, number>;
}

/** Builds the order (and its reverse index) of a layout's seat ids. */
export function layoutOrder(version: string, ids: readonly number[]): LayoutOrder {
  const indexOf = new Map<number, number>();
  ids.forEach((id, i) => indexOf.set(id, i));
  return { version, ids, indexOf };
}

/** Thrown when a compact payload does not fit the layout a client holds: it must fetch the layout again. */
export class LayoutMismatchError extends Error {
  readonly code = 'LAYOUT_MISMATCH';
  constructor(readonly expected: string | undefined, readonly got: string) {
    super(`Compact seat state is for layout ${got}, this map has ${expected ?? 'none'}: fetch the layout again`);
    this.name = 'LayoutMismatchError';
  }
}

/** Socket.IO hands binary attachments to Node clients as Buffer and to browsers as ArrayBuffer. */
export function bytes(field: BinaryField): Uint8Array {
  return field instanceof Uint8Array ? field : new Uint8Array(field);
}

/** Appends `value` (a non-negative integer below 2^35) as an unsigned LEB128 varint; returns the new offset. */
function putVarint(out: Uint8Array, at: number, value: number): number {
  let v = value;
  while (v >= 0x80) {
    out[at++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  out[at++] = v;
  return at;
}

/** Reads `count` varints. */
function readVarints(buf: Uint8Array, count: number): number[] {
  const out = new Array<number>(count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    let value = 0;
    let scale = 1;
    let b: number;
    do {
      if (at >= buf.length) throw new RangeError('truncated varint field');
      b = buf[at++]!;
      value += (b & 0x7f) * scale;
      scale *= 0x80;
    } while (b & 0x80);
    out[i] = value;
  }
  return out;
}

/** Hold expiries (epoch ms, 0 for none) as `expiresBase` and one varint each (see the module comment). */
function encodeExpiries(times: number[]): { expiresBase: number; expiresAt: Uint8Array } {
  // A loop, not Math.min(...times): a stadium may have more held seats than a call may take arguments.
  let expiresBase = 0;
  for (const t of times) if (t > 0 && (expiresBase === 0 || t < expiresBase)) expiresBase = t;
  return { expiresBase, expiresAt: varints(times.map((t) => (t > 0 ? 1 + t - expiresBase : 0))) };
}

function varints(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 5);
  let at = 0;
  for (let i = 0; i < values.length; i++) at = putVarint(out, at, values[i]!);
  // A copy of exactly the used bytes, so no transport sends the spare capacity.
  return out.slice(0, at);
}

/** Encodes a snapshot in layout order. Seats the layout does not know are left out (and never expected). */
export function encodeSnapshot(snapshot: SeatsSnapshot, order: LayoutOrder): CompactSeatsSnapshot {
  // A snapshot object that is reused (SeatsService keeps the last one on SQLite) is encoded once per layout.
  const known = encoded.get(snapshot);
  if (known?.order === order) return known.value;
  const value = encodeSnapshotNow(snapshot, order);
  encoded.set(snapshot, { order, value });
  return value;
}

const encoded = new WeakMap<SeatsSnapshot, { order: LayoutOrder; value: CompactSeatsSnapshot }>();

function encodeSnapshotNow(snapshot: SeatsSnapshot, order: LayoutOrder): CompactSeatsSnapshot {
  const count = order.ids.length;
  const status = new Uint8Array(count).fill(STATUS_ABSENT);
  const versions = new Array<number>(count).fill(0);
  const expiry = new Map<number, number>();
  for (const s of snapshot.seats) {
    const i = order.indexOf.get(s.id);
    if (i === undefined) continue;
    status[i] = STATUS_BYTE[s.status];
    versions[i] = s.version;
    if (s.status === 'held') expiry.set(i, s.expiresAt ? Date.parse(s.expiresAt) : 0);
  }
  const times: number[] = [];
  for (let i = 0; i < count; i++) if (status[i] === STATUS_BYTE.held) times.push(expiry.get(i) ?? 0);
  return { eventId: snapshot.eventId, cursor: snapshot.cursor, layoutVersion: order.version, count, status, versions: varints(versions), ...encodeExpiries(times) };
}

/** Encodes a change batch: indexes ascending, as varint gaps from the previous index. */
export function encodeChanges(batch: SeatsChanged, order: LayoutOrder): CompactSeatsChanged {
  const known = batch.seats
    .map((s) => ({ s, i: order.indexOf.get(s.id) }))
    .filter((x): x is { s: SeatState; i: number } => x.i !== undefined)
    .sort((a, b) => a.i - b.i);
  const gaps = known.map((x, k) => (k === 0 ? x.i : x.i - known[k - 1]!.i));
  const status = Uint8Array.from(known, (x) => STATUS_BYTE[x.s.status]);
  const times = known.filter((x) => x.s.status === 'held').map((x) => (x.s.expiresAt ? Date.parse(x.s.expiresAt) : 0));
  const expiries = encodeExpiries(times);
  // Byte arrays, not binary attachments: a batch is then one WebSocket frame per socket instead of five (see
  // binaryField in contracts/compact.ts). Change batches are small; snapshots stay binary.
  return {
    eventId: batch.eventId,
    cursor: batch.cursor,
    layoutVersion: order.version,
    count: known.length,
    indexes: Array.from(varints(gaps)),
    status: Array.from(status),
    versions: Array.from(varints(known.map((x) => x.s.version))),
    expiresBase: expiries.expiresBase,
    expiresAt: Array.from(expiries.expiresAt),
  };
}

/** The fields both compact payloads share. */
type CompactSeats = Pick<CompactSeatsSnapshot, 'layoutVersion' | 'count' | 'status' | 'versions' | 'expiresBase' | 'expiresAt'>;

/** Decodes `count` seats at `indexes` of `order` into plain seat states (the JSON form's shape). */
function decodeSeats(order: LayoutOrder, p: CompactSeats, indexes: number[] | null): SeatState[] {
  if (p.layoutVersion !== order.version) throw new LayoutMismatchError(order.version, p.layoutVersion);
  const count = p.count;
  const st = bytes(p.status);
  if (st.length !== count) throw new RangeError(`status has ${st.length} bytes for ${count} seats`);
  const vs = readVarints(bytes(p.versions), count);
  let heldCount = 0;
  for (let k = 0; k < count; k++) if (st[k] === STATUS_BYTE.held) heldCount++;
  const expiresAt = readVarints(bytes(p.expiresAt), heldCount);
  const seats: SeatState[] = [];
  let held = 0;
  for (let k = 0; k < count; k++) {
    const code = st[k]!;
    if (code === STATUS_ABSENT) continue;
    const i = indexes ? indexes[k]! : k;
    const id = order.ids[i];
    const statusName = STATUS_CODES[code];
    if (id === undefined || !statusName) throw new RangeError(`seat ${k}: index ${i} or status ${code} out of range`);
    const seat: SeatState = { id, status: statusName, version: vs[k]! };
    if (statusName === 'held') {
      const at = expiresAt[held++]!;
      if (at > 0) seat.expiresAt = new Date(p.expiresBase + at - 1).toISOString();
    }
    seats.push(seat);
  }
  return seats;
}

/** Decodes a compact snapshot into the JSON form. Throws LayoutMismatchError for another layout version. */
export function decodeSnapshot(snap: CompactSeatsSnapshot, order: LayoutOrder): SeatsSnapshot {
  return { eventId: snap.eventId, cursor: snap.cursor, seats: decodeSeats(order, snap, null) };
}

/** Decodes a compact change batch into the JSON form. Throws LayoutMismatchError for another layout version. */
export function decodeChanges(batch: CompactSeatsChanged, order: LayoutOrder): SeatsChanged {
  const gaps = readVarints(bytes(batch.indexes), batch.count);
  let at = 0;
  const indexes = gaps.map((g, k) => (at = k === 0 ? g : at + g));
  return { eventId: batch.eventId, cursor: batch.cursor, seats: decodeSeats(order, batch, indexes) };
}
