// Agent tokens as endpoint files keep them: "sha256:<hex>" of the token, never the token itself, and
// the constant-time check of a presented token against such a hash.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const PREFIX = 'sha256:';

/** The digest of a token; tokens are long random strings, so a fast hash suffices (no dictionary to try). */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** The form written in endpoint files. */
export function hashToken(token: string): string {
  return PREFIX + tokenDigest(token).toString('hex');
}

/** A new token with 256 bits from a cryptographic source. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The digest held by a `sha256:<hex>` string (already checked by the schema). */
export function storedDigest(stored: string): Buffer {
  return Buffer.from(stored.slice(PREFIX.length), 'hex');
}

/** Same length always (32 bytes), so timingSafeEqual never throws and takes the same time. */
export function digestsEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
