import { holdView } from '../../server/contracts';
import { decodeChanges, layoutOrder } from '../../packages/client/src';
import { bareAckBaseline, changeBatch, holdAck } from '../../load/ack-echo';
import { ECHO_LAYOUT_VERSION, echoSeatIds } from '../../load/echo-client';

/** The bare ack-echo baseline (load/ack-echo.ts): its payloads match Evently's shapes, and it runs end to end. */
describe('load generator: bare ack-echo baseline', () => {
  it("When the bare server answers a hold, then the ack's data is a valid HoldView for the seats asked for", () => {
    const ack = holdAck({ seatIds: [7, 9] }, 30_000);

    const view = holdView.parse(ack.data);

    expect(ack.ok).toBe(true);
    expect(view.seats.map((s) => s.id)).toEqual([7, 9]);
    expect(view.holdToken).toHaveLength(32);
  });

  it('When a compact batch is built without the codec, then the client codec decodes it to the seats and versions meant', () => {
    const ids = echoSeatIds(100);

    const { event, payload } = changeBatch(41, 5, 100, 'compact', 30_000);
    const decoded = decodeChanges(payload as Parameters<typeof decodeChanges>[0], layoutOrder(ECHO_LAYOUT_VERSION, ids));

    expect(event).toBe('seats:changed:compact');
    expect(decoded.seats).toHaveLength(5);
    expect(new Set(decoded.seats.map((s) => s.id)).size).toBe(5);
    for (const s of decoded.seats) {
      expect(ids).toContain(s.id);
      expect(s.version).toBe(42);
      expect(s.status === 'held').toBe(s.expiresAt !== undefined);
    }
  });

  it('When 20 closed-loop clients run for 1 s under broadcasts, then it reports a positive ack rate and every ack', async () => {
    const r = await bareAckBaseline({ clients: 20, batchesPerS: 20, seatsPerBatch: 2, seats: 100, seatsPerHold: 2, durationMs: 1000, connectConcurrency: 20, format: 'compact' });

    expect(r.clients).toBe(20);
    expect(r.processes).toBe(0);
    expect(r.connectFailures).toBe(0);
    expect(r.timeouts).toBe(0);
    expect(r.acksPerS).toBeGreaterThan(0);
    expect(r.latency.count).toBe(r.acks);
    expect(r.batchesPerSSent).toBeGreaterThan(0);
    expect(r.batchesPerClientPerS).toBeGreaterThan(0);
  });
});
