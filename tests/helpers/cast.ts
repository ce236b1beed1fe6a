/**
 * The people the staff-facing suites (box office, event cancellation, reports) all need: one node on a fresh
 * database, an admin, a box-office clerk and two buyers, and the watchers a test opens, closed after it.
 */
import type { Dialect } from './dialects';
import { createUsers, startTestEnv, type SeededEvent, type TestEnv } from './env';
import { http, type HttpReply } from './http';
import { watch, type Watcher } from './sockets';

export type Account = { id: number; token: string; email: string };

export interface Cast {
  env: TestEnv;
  /** The node's base URL. */
  url: string;
  admin: Account;
  clerk: Account;
  alice: Account;
  bob: Account;
  /** Watches an event, as `token`'s user or anonymously; closed after the test. */
  watch(eventId: number, token?: string): Watcher;
  /** Holds seats over REST as `who`. */
  holdAs(who: Account, ev: SeededEvent, seatIds: number[]): Promise<HttpReply>;
  /** Books a hold over REST as `who`, with `key` as its Idempotency-Key. */
  book(who: Account, holdToken: string, key: string): Promise<HttpReply>;
}

/**
 * Registers the hooks that start the node and create the people (beforeAll), close the test's watchers
 * (afterEach) and stop the node (afterAll). Call it in a describe block; read the fields in tests and hooks, where
 * they are set. A suite that keeps short names copies them in a beforeAll of its own, registered after this call
 * (Jest runs a block's beforeAll hooks in the order they were registered): `beforeAll(() => ({ env, url } = cast))`.
 */
export function castOn(dialect: Dialect): Cast {
  const open: Watcher[] = [];
  const cast = {
    watch(eventId: number, token?: string): Watcher {
      const watcher = watch(cast.url, eventId, token ? { token } : {});
      open.push(watcher);
      return watcher;
    },
    holdAs: (who: Account, ev: SeededEvent, seatIds: number[]) => http(cast.url, 'POST', `/api/events/${ev.eventId}/holds`, { token: who.token, body: { seatIds } }),
    book: (who: Account, holdToken: string, key: string) => http(cast.url, 'POST', '/api/bookings', { token: who.token, body: { holdToken }, headers: { 'Idempotency-Key': key } }),
  } as Cast;
  beforeAll(async () => {
    cast.env = await startTestEnv({ dialect });
    cast.url = cast.env.nodes[0]!.url;
    [cast.admin] = await createUsers(cast.env, 1, 'admin');
    [cast.clerk] = await createUsers(cast.env, 1, 'box_office');
    [cast.alice, cast.bob] = (await createUsers(cast.env, 2, 'user')) as [Account, Account];
  });
  afterEach(() => {
    while (open.length) open.pop()!.close();
  });
  afterAll(() => cast.env.stop());
  return cast;
}
