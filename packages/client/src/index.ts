/**
 * @evently/client: a typed client for Evently's REST API and Socket.IO protocol. The types are the server's
 * wire contracts (server/contracts, inferred from the zod schemas the server validates with), and the live seat
 * map is the server's own SeatMap and compact codec, so a client follows the protocol exactly as the server's
 * tests do. Runtime dependencies: socket.io-client only (zod is needed for the type declarations alone).
 */
export { EventlyClient, type EventlyClientOptions } from './client';
export { EventlyError, isEventlyError } from './errors';
export { newIdempotencyKey, type FetchLike } from './rest';
export { SeatWatch, type EventlySocket, type WatchDeps, type WatchOptions, type WatchState } from './watch';
export type * from './types';

// What client-demo, load/ and the tests use from the server today, so they can import it from here instead.
export { SeatMap } from '../../../server/realtime/seat-map';
export { bytes, LayoutMismatchError, decodeChanges, decodeSnapshot, layoutOrder, STATUS_CODES, type LayoutOrder } from '../../../server/realtime/compact';
export { eventNamespace, queueNamespace } from '../../../server/contracts/namespace';
/** Every wire type of the contracts (payloads, views, notices, the socket event maps, Ack). Types only: no zod at run time. */
export type * from '../../../server/contracts';
