/**
 * The wire contract in one place: zod schemas for REST bodies, queries and replies and for socket payloads, with
 * their TypeScript types inferred from them. Routes and socket handlers validate with these schemas, OpenAPI is
 * generated from them (docs/openapi.ts), and client-demo, load/ and the tests compile against the same types.
 * Contracts import nothing of the server but shared/ (see tests/unit/layers.test.ts).
 *
 * A browser bundle takes only types from here (`import type`), plus the dependency-free ./namespace.
 */
export * from './accounts';
export * from './bookings';
export * from './box-office';
export * from './compact';
export * from './errors';
export * from './events';
export * from './ga';
export * from './namespace';
export * from './queue';
export * from './reports';
export * from './seats';
export * from './socket';
export * from './socket-catalog';
export * from './venues';
export * from './waitlist';
export * from './webhooks';
