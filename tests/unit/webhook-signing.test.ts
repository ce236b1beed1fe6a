import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nextAttemptAt, retryDelayMs, RETRY_CAP_MS, RETRY_WINDOW_MS } from '../../server/webhooks/backoff';
import { newWebhookSecret, signPayload, verifySignature } from '../../server/webhooks/signing';

describe('webhook signatures', () => {
  const secret = newWebhookSecret();
  const body = JSON.stringify({ id: 'e1', type: 'booking.confirmed', createdAt: '2026-11-30T09:00:00.000Z', data: { bookingId: 1 } });
  const ts = 1_796_025_600;

  it('When a body is signed, then the signature is v1= and the HMAC-SHA256 of "timestamp.body"', () => {
    expect(signPayload(secret, ts, body)).toBe(`v1=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`);
  });

  it('When a receiver verifies, then only the right secret, body and a recent timestamp pass', () => {
    const signature = signPayload(secret, ts, body);
    const ok = { secret, body, timestamp: String(ts), signature, nowSeconds: ts + 10 };
    expect(verifySignature(ok)).toBe(true);
    expect(verifySignature({ ...ok, signature: `v1=deadbeef, ${signature}` })).toBe(true); // several (rotation)
    expect(verifySignature({ ...ok, secret: newWebhookSecret() })).toBe(false);
    expect(verifySignature({ ...ok, body: body.replace('1}', '2}') })).toBe(false);
    expect(verifySignature({ ...ok, timestamp: String(ts + 1) })).toBe(false);
    expect(verifySignature({ ...ok, nowSeconds: ts + 301 })).toBe(false); // replayed later
    expect(verifySignature({ ...ok, nowSeconds: ts - 301 })).toBe(false);
    expect(verifySignature({ ...ok, signature: undefined })).toBe(false);
    expect(verifySignature({ ...ok, timestamp: 'soon' })).toBe(false);
  });

  it('When the verification example in docs/WEBHOOKS.md is run, then it accepts a real signature and refuses a stale one', () => {
    const doc = readFileSync(join(__dirname, '../../docs/WEBHOOKS.md'), 'utf8');
    const fn = /^function verify\([\s\S]*?^\}$/m.exec(doc)?.[0];
    expect(fn).toBeDefined();
    const verify = new Function('crypto', 'SECRET', 'TOLERANCE_SECONDS', `${fn}; return verify;`)(require('node:crypto'), secret, 300) as (
      raw: string,
      timestamp: string,
      signature: string,
      now: number,
    ) => boolean;
    expect(verify(body, String(ts), signPayload(secret, ts, body), ts + 5)).toBe(true);
    expect(verify(body, String(ts), signPayload(secret, ts, body), ts + 600)).toBe(false);
    expect(verify(body, String(ts), signPayload('another-secret-of-some-length', ts, body), ts)).toBe(false);
  });
});

describe('webhook retry schedule', () => {
  it('When attempts fail, then each delay is between half and all of 10 s doubling, capped at one hour', () => {
    for (let n = 1; n <= 40; n++) {
      const ceiling = Math.min(RETRY_CAP_MS, 10_000 * 2 ** (n - 1));
      expect(retryDelayMs(n, () => 0)).toBe(ceiling / 2);
      expect(retryDelayMs(n, () => 0.999999)).toBeLessThanOrEqual(ceiling);
      expect(retryDelayMs(n, () => 0.999999)).toBeGreaterThan(ceiling * 0.99);
    }
  });

  it('When a day of retries is over, then there is no next attempt', () => {
    const start = 1_000_000;
    expect(nextAttemptAt(start, start, 1, () => 0)).toBe(start + 5_000);
    expect(nextAttemptAt(start, start + RETRY_WINDOW_MS - RETRY_CAP_MS, 20, () => 1)).toBe(start + RETRY_WINDOW_MS);
    expect(nextAttemptAt(start, start + RETRY_WINDOW_MS - RETRY_CAP_MS + 1, 20, () => 1)).toBeNull();
  });
});
