/**
 * The compact seat-state payloads: every seat's state in layout order, binary, with no per-seat object. Codec
 * (encode and decode) and rationale: realtime/compact.ts and docs/DESIGN.md.
 */
import { z } from 'zod';

/**
 * Bytes. In snapshots, a binary attachment: a Buffer (a Uint8Array) when sent or received by Node, an ArrayBuffer
 * in a browser. In change batches, a plain array of byte values: Socket.IO sends every binary attachment as a
 * WebSocket frame of its own, so a change batch with four binary fields cost five frames per socket (a one-seat
 * batch: 284 bytes of header and four 1-byte frames), where as arrays it is one text frame. `bytes()` in
 * realtime/compact.ts reads all three.
 */
export const binaryField = z.custom<Uint8Array | ArrayBuffer | number[]>(
  (v) => v instanceof Uint8Array || v instanceof ArrayBuffer || (Array.isArray(v) && v.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)),
  'must be bytes',
);
export type BinaryField = z.infer<typeof binaryField>;

/** Which form of seat state a socket asks for in its handshake. */
export const seatStateFormat = z.enum(['json', 'compact']);
export type SeatStateFormat = z.infer<typeof seatStateFormat>;

/**
 * `seats:snapshot:compact`: every seat of the layout (`GET /api/events/:id/layout`, version `layoutVersion`), in
 * the order of its `seats` array.
 */
export const compactSeatsSnapshot = z.object({
  eventId: z.number(),
  cursor: z.number(),
  /** The layout version (the layout's ETag) whose seat order this state follows. */
  layoutVersion: z.string(),
  /** Seats in the layout; `status` has this many bytes and `versions` this many varints. */
  count: z.number(),
  /** One byte per seat: 0 available, 1 held, 2 booked, 3 blocked (255: no state for this seat). */
  status: binaryField,
  /** One unsigned LEB128 varint per seat: its version. */
  versions: binaryField,
  /** Epoch ms that `expiresAt` counts from (the earliest expiry; 0 without held seats). */
  expiresBase: z.number(),
  /** One varint per held seat, in layout order of the held seats: 1 + ms after `expiresBase`, or 0 for none. */
  expiresAt: binaryField,
});
export type CompactSeatsSnapshot = z.infer<typeof compactSeatsSnapshot>;

/** `seats:changed:compact`: the seats of one batch, as layout indexes (ascending, varint gaps) with their state. */
export const compactSeatsChanged = z.object({
  eventId: z.number(),
  cursor: z.number(),
  layoutVersion: z.string(),
  /** Seats in this batch. */
  count: z.number(),
  /** `count` varints: the first seat's layout index, then the gap to each next one. */
  indexes: binaryField,
  status: binaryField,
  versions: binaryField,
  expiresBase: z.number(),
  expiresAt: binaryField,
});
export type CompactSeatsChanged = z.infer<typeof compactSeatsChanged>;
