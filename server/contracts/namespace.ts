/**
 * The Socket.IO namespace of one event. Dependency-free (no zod), so the browser bundle can import this value
 * without pulling in the schemas; everything else it takes from contracts/ is `import type`.
 */
export const eventNamespace = (eventId: number): string => `/events/${eventId}`;

/** The waiting room of one event (issue 12): buyers queue here before the seat map. */
export const queueNamespace = (eventId: number): string => `/queue/${eventId}`;
