import { Counter, Gauge, type Registry } from 'prom-client';
import type { WaitingRoomService } from './service';

/**
 * The waiting room's Prometheus instruments, in the node's registry: the line per event as this node's last tick
 * saw it, admissions this node made, and what position updates cost (messages written to sockets).
 */
export function watchQueueMetrics(registry: Registry, queue: WaitingRoomService): { progressSent(sockets: number): void } {
  const r = [registry];
  const waiting = new Gauge({ name: 'evently_queue_waiting', help: 'Buyers in line (with a ticket), per event', labelNames: ['event'], registers: r });
  const lobby = new Gauge({ name: 'evently_queue_lobby', help: 'Buyers in the lobby before the sale start, per event', labelNames: ['event'], registers: r });
  const active = new Gauge({ name: 'evently_queue_active', help: 'Admitted buyers whose shopping window is open, per event', labelNames: ['event'], registers: r });
  const admissions = new Counter({ name: 'evently_queue_admissions_total', help: 'Buyers this node admitted', labelNames: ['event'], registers: r });
  const expired = new Counter({ name: 'evently_queue_windows_expired_total', help: 'Shopping windows that ended without a booking or leave (ended by this node)', labelNames: ['event'], registers: r });
  const progress = new Counter({ name: 'evently_queue_progress_messages_total', help: 'queue:progress messages written to sockets (one broadcast per event per tick, written to each queued socket)', registers: r });
  queue.onTick(({ eventId, result }) => {
    const event = String(eventId);
    waiting.set({ event }, result.waiting);
    lobby.set({ event }, result.lobby);
    active.set({ event }, result.active);
    if (result.admittedNow) admissions.inc({ event }, result.admittedNow);
    if (result.expiredNow) expired.inc({ event }, result.expiredNow);
  });
  return { progressSent: (sockets) => progress.inc(sockets) };
}
