/**
 * The Socket.IO namespace of one event. Dependency-free (no zod), so the browser bundle can import this value
 * without pulling in the schemas; everything else it takes from contracts/ is `import type`.
 */
export const eventNamespace = (eventId: number): string => `/events/${eventId}`;
