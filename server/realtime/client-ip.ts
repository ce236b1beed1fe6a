import type { EventSocket } from './types';

/**
 * A socket client's address, as Express's `req.ip` gives it for REST: behind a trusted proxy (TRUST_PROXY) the
 * first X-Forwarded-For entry, else the connection's address. Used by rate limits and the per-IP hold cap.
 */
export function socketClientIp(socket: Pick<EventSocket, 'handshake'>, trustProxy: boolean): string {
  if (trustProxy) {
    const fwd = socket.handshake.headers['x-forwarded-for'];
    const first = (Array.isArray(fwd) ? fwd[0] : fwd)?.split(',')[0]?.trim();
    if (first) return first.slice(0, 64);
  }
  return socket.handshake.address;
}
