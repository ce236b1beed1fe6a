import { AppError, ConflictError, SeatUnavailableError, toErrorBody } from '../../server/shared/errors';

/**
 * Typed errors (server/shared/errors.ts): what a client sees, and that an AppError, an answer rather than a fault,
 * is made without capturing stack frames while other errors keep theirs.
 */
describe('AppError', () => {
  it('When a seat refusal is made, then it carries its status, code and details, and answers with them', () => {
    const err = new SeatUnavailableError([3, 7]);
    expect(err).toBeInstanceOf(SeatUnavailableError);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('SeatUnavailableError');
    expect(toErrorBody(err)).toEqual({ status: 409, body: { code: 'SEAT_UNAVAILABLE', message: err.message, details: { seatIds: [3, 7] } } });
  });

  it('When an AppError is made, then its stack names it but holds no frames, and errors made after it keep theirs', () => {
    const limit = Error.stackTraceLimit;
    const err = new AppError(503, 'BUSY', 'Too busy, retry');
    expect(err.stack).toBe('AppError: Too busy, retry');
    expect(Error.stackTraceLimit).toBe(limit);
    const fault = new Error('a real fault');
    expect(fault.stack?.split('\n').length).toBeGreaterThan(1);
    expect(fault.stack).toContain('errors.test.ts');
  });
});
