import type { GaLine, HoldView } from '../../packages/client/src';
import { api, session } from './api';

/** What a tab remembers of its hold across a reload: the token and the server's clock skew. */
export interface SavedHold {
  token: string;
  skew: number;
}

/**
 * A reload keeps the hold: its token lives in sessionStorage (this tab only, never shared with another tab or
 * kept after the tab closes). Storage may be unavailable (private mode): then the hold simply is not restored.
 */
export function savedHold(eventId: number): { save(hold: HoldView | null, skew: number): void; load(): SavedHold | null } {
  const key = `evently.hold.${eventId}`;
  return {
    save(hold, skew) {
      try {
        if (hold) sessionStorage.setItem(key, JSON.stringify({ token: hold.holdToken, skew }));
        else sessionStorage.removeItem(key);
      } catch {
        // Storage unavailable: nothing to remember.
      }
    },
    load() {
      try {
        return JSON.parse(sessionStorage.getItem(key) ?? 'null') as SavedHold | null;
      } catch {
        return null;
      }
    },
  };
}

/** The saved hold if it is still live (its held seats and tickets), else null: expired, booked or released holds are gone. */
export async function fetchSavedHold(saved: SavedHold): Promise<(HoldView & { ga?: GaLine[] }) | null> {
  if (!session.get()) return null;
  try {
    const view = await api<HoldView & { ga?: GaLine[] }>('GET', `/api/holds/${encodeURIComponent(saved.token)}`);
    const held = view.seats.filter((st) => st.status === 'held');
    if ((held.length || view.ga?.length) && Date.parse(view.expiresAt) > Date.now() + saved.skew) return { ...view, seats: held };
  } catch {
    // Gone (expired, booked, released): nothing to restore.
  }
  return null;
}
