import type { Ack, ErrorBody, EventLayout, HoldView } from '../../packages/client/src';
import type { EventDetail } from './api';
import type { LiveSeats } from './live';

/** What the seat picker's panels share: the event, the live connection, the message line and the hold. */
export interface PickerContext {
  eventId: number;
  event: EventDetail;
  layout: EventLayout;
  live: LiveSeats;
  say(text: string, kind?: 'error' | 'info' | 'ok', code?: string): void;
  sayError(err: ErrorBody): void;
  /** Runs one command at a time (a second click while one is in flight is ignored); errors go to the message line. */
  run<T>(what: () => Promise<Ack<T>>): Promise<T | undefined>;
  /** Makes `view` the current hold (and learns the server's clock from it when `learnSkew`). */
  adoptHold(view: HoldView, learnSkew: boolean): void;
  /** The current hold, if any. */
  hold(): HoldView | null;
}
