import { Encoder, PacketType } from 'socket.io-parser';
import { binaryField } from '../../server/contracts/compact';
import { decodeChanges, encodeChanges, encodeSnapshot, layoutOrder } from '../../server/realtime/compact';

/**
 * What a compact payload costs on the wire in WebSocket frames: socket.io-parser sends a binary event as a text
 * header plus one frame per binary attachment, and every frame is a socket write per watcher. Change batches go to
 * every watcher after every commit, so they must be one frame; a snapshot goes once per join and stays binary.
 */
const order = layoutOrder('v1', Array.from({ length: 1000 }, (_, i) => i + 1));
const frames = (event: string, payload: unknown) => new Encoder().encode({ type: PacketType.EVENT, nsp: '/events/1', data: [event, payload] });

describe('compact payloads on the wire', () => {
  it('When a change batch is encoded, then it is one text frame, and it decodes to the same seats', () => {
    const batch = {
      eventId: 1,
      cursor: 9,
      seats: [
        { id: 5, status: 'held' as const, version: 3, expiresAt: '2030-01-01T00:00:00.000Z' },
        { id: 700, status: 'booked' as const, version: 300 },
      ],
    };
    const compact = encodeChanges(batch, order);
    const parts = frames('seats:changed:compact', compact);
    expect(parts).toHaveLength(1);
    expect(typeof parts[0]).toBe('string');
    // Through JSON, as a client receives it: the byte arrays survive and decode.
    const received = JSON.parse(JSON.stringify(compact));
    expect(decodeChanges(received, order).seats).toEqual(batch.seats);
    expect(binaryField.safeParse(received.status).success).toBe(true);
  });

  it('When a snapshot is encoded, then its fields stay binary attachments (one frame each, once per join)', () => {
    const snap = encodeSnapshot({ eventId: 1, cursor: 9, seats: order.ids.map((id) => ({ id, status: 'available' as const, version: 1 })) }, order);
    expect(frames('seats:snapshot:compact', snap)).toHaveLength(4);
  });

  it('When a byte array holds anything but bytes, then the schema refuses it', () => {
    expect(binaryField.safeParse([0, 255]).success).toBe(true);
    for (const bad of [[256], [-1], [1.5], ['1'], 'abc', 7]) expect(binaryField.safeParse(bad).success).toBe(false);
  });
});
