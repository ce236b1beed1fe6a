/** What the waitlist suites (one node, two nodes) share: waiting for matching, and booking seats to free later. */
import { randomUUID } from 'node:crypto';
import type { TestEnv } from './env';
import { http } from './http';

export type User = { id: number; token: string };

/** Every node's matching runs have finished (they run after the commit that freed the seats). */
export const settle = (env: TestEnv) => Promise.all(env.nodes.map((n) => n.services.waitlist.idle()));

/** Holds and books `seatIds` for `user` over REST; returns the booking id. */
export async function book(url: string, eventId: number, user: User, seatIds: number[]): Promise<number> {
  const held = await http(url, 'POST', `/api/events/${eventId}/holds`, { token: user.token, body: { seatIds } });
  expect(held.status).toBe(201);
  const booked = await http(url, 'POST', '/api/bookings', { token: user.token, body: { holdToken: held.body.holdToken }, headers: { 'Idempotency-Key': randomUUID() } });
  expect(booked.status).toBe(201);
  return booked.body.id;
}
