import type { AuthUser } from '../shared/auth-user';

/**
 * What a hold must pass before it reaches the inventory: the waiting room's admission check (WaitingRoomService).
 * Seats, best-available and general admission take it as an optional dependency, so they know nothing else of
 * the waiting room; it throws NOT_ADMITTED to refuse.
 */
export interface HoldGate {
  assertMayHold(actor: AuthUser, eventId: number): Promise<void>;
}
