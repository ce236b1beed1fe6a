import { Decoder, Encoder, PacketType, type Packet } from 'socket.io-parser';
import { SharedFrameDecoder } from '../../load/shared-frames';

/** The generator's clients parse a broadcast change frame once per process (load/shared-frames.ts). */
describe('load generator: shared broadcast frames', () => {
  const encoder = new Encoder();
  const decodeAll = (decoder: Decoder, packets: Packet[]): Packet[] => {
    const out: Packet[] = [];
    decoder.on('decoded', (p: Packet) => out.push(p));
    for (const packet of packets) for (const frame of encoder.encode(packet)) decoder.add(frame);
    return out;
  };
  const batch = (cursor: number) => ({ eventId: 7, cursor, layoutVersion: 'v1', count: 2, indexes: [3, 1], status: [1, 2], versions: [4, 2], expiresBase: 1_700_000_000_000, expiresAt: [1, 0] });
  const nsp = '/events/7';

  it('When every kind of packet arrives, then each decodes exactly as with Socket.IO’s own decoder', () => {
    const packets: Packet[] = [
      { type: PacketType.CONNECT, nsp, data: { sid: 'abc' } },
      { type: PacketType.EVENT, nsp, data: ['seats:changed:compact', batch(10)] },
      { type: PacketType.EVENT, nsp, data: ['seats:changed:compact', batch(11)], id: 5 },
      { type: PacketType.EVENT, nsp: '/', data: ['seats:changed:compact', batch(12)] },
      { type: PacketType.EVENT, nsp, data: ['seats:changed', { eventId: 7, cursor: 13, seats: [{ id: 1, status: 'held', version: 2 }] }] },
      { type: PacketType.EVENT, nsp, data: ['seats:changed:compactish', batch(14)] },
      { type: PacketType.ACK, nsp, data: [{ ok: true }], id: 5 },
      { type: PacketType.EVENT, nsp, data: ['seats:snapshot:compact', { eventId: 7, status: Buffer.from([0, 1, 2]) }] },
      { type: PacketType.CONNECT_ERROR, nsp, data: { message: 'nope' } },
      { type: PacketType.DISCONNECT, nsp },
    ];
    expect(decodeAll(new SharedFrameDecoder(), packets)).toEqual(decodeAll(new Decoder(), packets));
  });

  it('When many clients get the same change frame, then it is parsed once and each client gets its own packet', () => {
    const packet: Packet = { type: PacketType.EVENT, nsp, data: ['seats:changed:compact', batch(20)] };
    const [first, second] = [decodeAll(new SharedFrameDecoder(), [packet])[0]!, decodeAll(new SharedFrameDecoder(), [packet])[0]!];
    expect(first).toEqual(packet);
    expect(second).toEqual(packet);
    // One parse: the batch object is the same; the packet and its argument list are each client's own.
    expect(second.data[1]).toBe(first.data[1]);
    expect(second).not.toBe(first);
    expect(second.data).not.toBe(first.data);
    // socket.io-client appends an ack callback to a packet's list: that must not reach the next client.
    first.data.push(() => undefined);
    expect(decodeAll(new SharedFrameDecoder(), [packet])[0]!.data).toHaveLength(2);
  });

  it('When a frame carries an ack id, then it is parsed for its client alone', () => {
    const packet: Packet = { type: PacketType.EVENT, nsp, data: ['seats:changed:compact', batch(30)], id: 9 };
    const [first, second] = [decodeAll(new SharedFrameDecoder(), [packet])[0]!, decodeAll(new SharedFrameDecoder(), [packet])[0]!];
    expect(second).toEqual(first);
    expect(second.data[1]).not.toBe(first.data[1]);
  });
});
