import type { Db } from '../../server/db/knex';
import { GaService } from '../../server/ga/service';
import type { Notifier } from '../../server/realtime/notifier';
import type { Logger } from '../../server/shared/logger';
import { WaitlistMatcher } from '../../server/waitlist/matcher';

/**
 * Work that runs after a commit or on a timer has no caller to report to: each failure is logged once, with the
 * event and what was being done (STYLE.md, "Nothing fails silently"). A database that refuses every query stands
 * in for one that went away.
 */
const downDb = (() => {
  throw new Error('database down');
}) as unknown as Db;
const logger = () => ({ error: jest.fn(), warn: jest.fn(), info: jest.fn(), debug: jest.fn() });
const clock = { now: () => 0 };
const flush = () => new Promise((r) => setImmediate(r));

describe('background failures are logged once with context', () => {
  it('When the GA availability read fails after a commit, then it is logged once with the event id', async () => {
    const log = logger();
    const notifier = { gaChanged: jest.fn() } as unknown as Notifier;
    const ga = new GaService({ db: downDb, clock, notifier, logger: log as unknown as Logger });
    ga.changed(42);
    await flush();
    expect(log.error).toHaveBeenCalledTimes(1);
    expect(log.error.mock.calls[0]![0]).toMatchObject({ eventId: 42, err: expect.objectContaining({ message: 'database down' }) });
    expect(notifier.gaChanged).not.toHaveBeenCalled();
  });

  it('When a waitlist matching run fails, then it is logged once with the event id (and the next trigger retries)', async () => {
    const log = logger();
    const matcher = new WaitlistMatcher({ db: downDb, clock, notifier: {} as Notifier, logger: log as unknown as Logger });
    matcher.schedule(7);
    await matcher.idle();
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.warn.mock.calls[0]![0]).toMatchObject({ eventId: 7, err: expect.objectContaining({ message: 'database down' }) });
  });
});
