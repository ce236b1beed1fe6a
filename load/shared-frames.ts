/**
 * A Socket.IO parser for the generator's simulated clients that parses each broadcast change frame once per
 * process instead of once per client.
 *
 * A broadcast reaches every client of an event as the same text frame. A browser parses its copy on its own
 * machine; here 2,000 simulated buyers share one thread on the machine that also runs the nodes, so parsing the
 * same frame 2,000 times is the generator's own work, and it delays every ack the buyers measure (JSON.parse alone
 * was 6.5% of the buyers' thread in a profiled flash sale's rush, and its garbage part of the 12.9% spent
 * collecting: load/README.md, issue 17, "a broadcast frame parsed once per client process"). Like `decodeShared`
 * (clients.ts), which decodes a compact batch once per process, this keeps the parsed frame and hands each client
 * its own packet and argument list over the same, read-only, batch object.
 *
 * Only `seats:changed:compact` event frames without an ack id are shared: their one listener (`onChanges`)
 * reads the batch and never changes it. Every other frame (acks, snapshots, JSON batches, which box-office
 * watchers merge into maps of their own, binary events) goes through Socket.IO's own decoder unchanged.
 */
import { Decoder, Encoder, PacketType, protocol, type Packet } from 'socket.io-parser';

/** `2/events/1,["seats:changed:compact",…]`: an EVENT in a namespace, no ack id (digits would precede the `[`). */
const SHARED_EVENT = '"seats:changed:compact"';
const parsedFrames = new Map<string, Packet>();
/** Frames kept: far more than the broadcasts a client thread reads while one frame reaches all of its clients. */
const FRAMES_KEPT = 64;

/** The packet of a shareable frame, or undefined when the frame is of any other kind. */
function sharedPacket(frame: string): Packet | undefined {
  if (frame.charCodeAt(0) !== 50 /* '2' */ || frame.charCodeAt(1) !== 47 /* '/' */) return undefined;
  const comma = frame.indexOf(',');
  if (comma < 0 || !frame.startsWith(SHARED_EVENT, comma + 2) || frame.charCodeAt(comma + 1) !== 91 /* '[' */) return undefined;
  let packet = parsedFrames.get(frame);
  if (!packet) {
    packet = { type: PacketType.EVENT, nsp: frame.slice(1, comma), data: JSON.parse(frame.slice(comma + 1)) as unknown[] };
    parsedFrames.set(frame, packet);
    // Maps iterate in insertion order: drop the oldest.
    if (parsedFrames.size > FRAMES_KEPT) parsedFrames.delete(parsedFrames.keys().next().value!);
  }
  return packet;
}

/** Socket.IO's decoder, but a shared change frame is parsed once per process (see the module comment). */
export class SharedFrameDecoder extends Decoder {
  override add(obj: unknown): void {
    const packet = typeof obj === 'string' ? sharedPacket(obj) : undefined;
    // socket.io-client appends an ack callback to a packet's argument list when it has an id: each client gets
    // its own packet and list, only the parsed batch inside is shared.
    if (packet) this.emitReserved('decoded', { type: packet.type, nsp: packet.nsp, data: [...(packet.data as unknown[])] });
    else super.add(obj);
  }
}

/** The parser option for `io(url, { parser })`: Socket.IO's encoder, the shared-frame decoder. */
export const sharedFrameParser = { protocol, Encoder, Decoder: SharedFrameDecoder };
