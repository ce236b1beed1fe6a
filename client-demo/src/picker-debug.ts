import type { HoldView, SeatState } from '../../packages/client/src';
import type { LiveSeats } from './live';
import type { SeatCanvas } from './seat-canvas';

/**
 * Test and debugging hook on `window.evently`: read-only views of what the page shows (the e2e tests click real
 * pixels and read the outcome here), and two switches that simulate a network loss and a missed change.
 */
export function exposePicker(live: LiveSeats, canvas: SeatCanvas, mine: (id: number) => boolean, hold: () => HoldView | null): void {
  (window as unknown as { evently: unknown }).evently = {
    seat: (id: number): (SeatState & { mine: boolean }) | null => {
      const s = live.map.seats.get(id);
      return s ? { ...s, mine: mine(id) } : null;
    },
    seatPoint: (id: number) => canvas.seatPoint(id),
    connected: () => live.socket.connected,
    stats: () => ({ ...live.stats }),
    cursor: () => live.map.cursor,
    hold,
    /** Drops the connection as a network loss would (the client does not reconnect until goOnline). */
    goOffline: () => live.socket.disconnect(),
    goOnline: () => live.socket.connect(),
    /** Makes the local map show a seat as free at its current version, as a map that missed a change would. */
    staleSeat: (id: number) => {
      const s = live.map.seats.get(id);
      if (s) live.map.seats.set(id, { id, status: 'available', version: s.version });
      canvas.redraw([id]);
    },
  };
}
