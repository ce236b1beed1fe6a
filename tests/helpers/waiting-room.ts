import { createUsers, seedEvent, type SeededEvent, type TestEnv } from './env';
import { http } from './http';

const MIN = 60_000;

/**
 * An event with its waiting room turned on over the admin API (on node 0), by a new admin. The room opened a minute
 * ago, the sale starts in a minute and windows last 10 minutes unless `settings` says otherwise; times are the
 * shared clock's.
 */
export async function seedWaitingRoom(
  env: TestEnv,
  settings: Record<string, unknown>,
  seats: Parameters<typeof seedEvent>[1] = { rows: 2, seatsPerRow: 10 },
): Promise<{ event: SeededEvent; admin: { id: number; token: string; email: string } }> {
  const iso = (ms: number) => new Date(env.clock.now() + ms).toISOString();
  const event = await seedEvent(env, seats);
  const [admin] = await createUsers(env, 1, 'admin');
  const res = await http(env.nodes[0]!.url, 'PUT', `/api/admin/events/${event.eventId}/queue`, {
    token: admin!.token,
    body: { enabled: true, opensAt: iso(-MIN), saleStartsAt: iso(MIN), windowSeconds: 600, ...settings },
  });
  if (res.status !== 200) throw new Error(`waiting room not put on: ${res.status} ${JSON.stringify(res.body)}`);
  return { event, admin: admin! };
}
