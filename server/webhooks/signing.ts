import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures. Each request carries `Evently-Timestamp` (Unix seconds) and `Evently-Signature: v1=<hex>`,
 * the HMAC-SHA256 of `timestamp + "." + rawBody` under the endpoint's secret. Signing the timestamp with the body
 * lets a receiver reject an old request replayed by someone who recorded it (see docs/WEBHOOKS.md).
 */

/** How far a timestamp may be from the receiver's clock before it refuses the request (replay protection). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** `v1=<hex>`: the signature of `body` sent at `timestamp` (Unix seconds). */
export function signPayload(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * A receiver's check, as documented for integrators: the timestamp is recent (within `toleranceSeconds` of
 * `nowSeconds`) and one `v1=` signature in the header matches, compared in constant time.
 */
export function verifySignature(input: {
  secret: string;
  body: string;
  timestamp: string | undefined;
  signature: string | undefined;
  nowSeconds: number;
  toleranceSeconds?: number;
}): boolean {
  const ts = Number(input.timestamp);
  if (!input.signature || !Number.isInteger(ts)) return false;
  if (Math.abs(input.nowSeconds - ts) > (input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return false;
  const expected = Buffer.from(signPayload(input.secret, ts, input.body));
  return input.signature
    .split(',')
    .map((s) => Buffer.from(s.trim()))
    .some((given) => given.length === expected.length && timingSafeEqual(given, expected));
}

/** A new endpoint secret: `whsec_` and 32 random bytes (base64url). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}
