import { RateLimits } from '../../server/ratelimit/limits';
import { RateLimitedError } from '../../server/shared/errors';
import { createLogger } from '../../server/shared/logger';
import type { EventSocket } from '../../server/realtime/types';

/**
 * A hold command takes a point from two budgets, the socket commands' and the holds' (server/ratelimit/limits.ts).
 * Both are taken at once; every budget is charged; a refusal answers with the longest wait, since the client
 * must wait for every budget that refused. In-memory limiters (no Redis): the same code path decides.
 */
describe('rate limit budgets of a socket command', () => {
  const off = { points: 0, durationSeconds: 1 };
  const limits = () =>
    new RateLimits(
      { login: off, rest: off, register: off, socket: { points: 3, durationSeconds: 1 }, hold: { points: 1, durationSeconds: 60 } },
      createLogger('silent'),
    );
  const socketOf = (userId: number) => ({ data: { user: { id: userId } }, handshake: { address: '127.0.0.1', headers: {} } }) as unknown as EventSocket;
  const refusal = (p: Promise<unknown>) => p.then(() => undefined, (err: unknown) => err as RateLimitedError);

  it('When the hold budget is spent, then a hold is refused with the hold budget’s wait, not the shorter one', async () => {
    const rl = limits();
    const s = socketOf(1);
    await rl.beforeCommand(s, 'seat:hold');
    const second = await refusal(rl.beforeCommand(s, 'seat:hold'));
    expect(second).toBeInstanceOf(RateLimitedError);
    expect(second!.retryAfterSeconds).toBeGreaterThan(50);
    // Other commands only take from the socket budget, which the refused hold was charged for too: 2 of 3 used.
    await rl.beforeCommand(s, 'seat:release');
    const fourth = await refusal(rl.beforeCommand(s, 'seat:release'));
    expect(fourth).toBeInstanceOf(RateLimitedError);
    expect(fourth!.retryAfterSeconds).toBeLessThanOrEqual(1);
  });

  it('When both budgets refuse, then the answer is the longer wait; another user has budgets of their own', async () => {
    const rl = limits();
    const s = socketOf(2);
    for (let i = 0; i < 3; i++) await refusal(rl.beforeCommand(s, 'seat:hold'));
    const both = await refusal(rl.beforeCommand(s, 'seat:hold'));
    expect(both!.retryAfterSeconds).toBeGreaterThan(50);
    expect(await refusal(rl.beforeCommand(socketOf(3), 'seat:hold'))).toBeUndefined();
  });
});
