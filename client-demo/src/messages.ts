import type { ErrorBody } from '../../packages/client/src';

/**
 * Plain-language messages for the server's error codes. The server's own message is precise but written
 * for developers; a buyer gets one of these, and the code stays visible in a data attribute for support.
 */
const MESSAGES: Record<string, string> = {
  SEAT_UNAVAILABLE: 'Someone just took that seat. Please pick another one.',
  NOT_ADMITTED: 'This sale runs through a waiting room: please join the queue (or your shopping time has ended). Reload the page to join.',
  QUEUE_NOT_OPEN: 'The waiting room is not open yet. Please come back a little before the sale starts.',
  SEAT_NOT_FOUND: 'That seat does not exist for this event.',
  SEAT_NOT_IN_HOLD: 'That seat is not part of your selection any more.',
  HOLD_NOT_FOUND: 'Your selection is no longer there. It may have expired.',
  HOLD_EXPIRED: 'Your hold expired and the seats were released. Please choose again.',
  HOLD_RELEASED: 'Those seats were already released.',
  HOLD_ALREADY_BOOKED: 'These seats are already booked.',
  HOLD_MAX_LIFE: 'This hold cannot be extended any further. Please book now or choose again.',
  HOLD_LIMIT_REACHED: 'You are holding as many seats as this event allows.',
  HOLD_EMPTY: 'Pick at least one seat first.',
  HOLD_OTHER_EVENT: 'That selection belongs to another event.',
  TOO_MANY_SEATS: 'That is more seats than one order allows.',
  EVENT_NOT_ON_SALE: 'Tickets for this event are not on sale right now.',
  EVENT_NOT_FOUND: 'This event does not exist (or is not published yet).',
  UNAUTHORIZED: 'Please sign in first.',
  TOKEN_EXPIRED: 'Your session expired. Please sign in again.',
  INVALID_TOKEN: 'Your session is no longer valid. Please sign in again.',
  TOKEN_REVOKED: 'Your session was ended. Please sign in again.',
  ACCOUNT_DEACTIVATED: 'This account has been deactivated.',
  UNKNOWN_COMMAND: 'This app is out of date. Please reload the page.',
  INVALID_CREDENTIALS: 'Wrong email or password.',
  EMAIL_TAKEN: 'There is already an account with that email. Try signing in.',
  FORBIDDEN: 'Your account is not allowed to do that.',
  RATE_LIMITED: 'Too many requests. Please wait a moment and try again.',
  IDEMPOTENCY_KEY_REUSED: 'That booking request was already used for other seats. Please try again.',
  VALIDATION_FAILED: 'Some of the details are not valid.',
  NO_SEATS_TOGETHER: 'No block of seats that size is free together right now.',
  NO_SEATS_AVAILABLE: 'Not enough seats are free together right now. Try fewer seats or another price.',
  UNKNOWN_CATEGORY: 'This event has no such price category.',
  UNKNOWN_SECTION: 'This venue has no such section.',
  EVENT_CANCELLED: 'This event was cancelled.',
  SEAT_NOT_BLOCKED: 'Those seats are not blocked.',
  WAITLIST_ALREADY_JOINED: 'You are already on the waitlist for this event.',
  WAITLIST_NO_OFFER: 'That offer is no longer open.',
  WAITLIST_NOT_ACTIVE: 'That waitlist entry is no longer active.',
  WAITLIST_ENTRY_NOT_FOUND: 'That waitlist entry does not exist.',
  NOT_SUPPORTED: 'The server does not offer this yet.',
  NO_ANSWER: 'The server did not answer in time. Please try again.',
  OFFLINE: 'You are offline. We will reconnect and catch up automatically.',
  NETWORK: 'Could not reach the server. Please check your connection.',
  ROUTE_NOT_FOUND: 'The server does not offer this yet.',
  INTERNAL: 'Something went wrong on our side. Please try again.',
};

export function plainMessage(err: ErrorBody): string {
  const known = MESSAGES[err.code];
  if (known) return err.code === 'VALIDATION_FAILED' && err.message ? `${known} (${err.message})` : known;
  return err.message || 'Something went wrong. Please try again.';
}
