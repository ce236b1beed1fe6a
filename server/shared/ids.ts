import { randomBytes } from 'node:crypto';

/** An unguessable token (hold tokens): 24 random bytes, base64url. */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

const REF_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'; // no 0/O, 1/I: read over the phone at a box office

/** A short human-friendly booking reference like `EV-7KQ2-M9XD`. */
export function newOrderReference(): string {
  const bytes = randomBytes(8);
  let s = '';
  for (let i = 0; i < 8; i++) s += REF_ALPHABET[bytes[i]! % REF_ALPHABET.length];
  return `EV-${s.slice(0, 4)}-${s.slice(4)}`;
}
