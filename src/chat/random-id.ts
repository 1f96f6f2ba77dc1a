// The 16-character ids of chats, users, secure keys and files: 64 bits from the OS's cryptographic
// source, as upper-case hex. Drawn from a pool filled for many ids at once, as crypto.randomUUID does
// for its own, instead of one call into the OS per id.

import { randomFillSync } from 'node:crypto';

const ID_BYTES = 8;
const POOL_IDS = 128;
const pool = Buffer.alloc(ID_BYTES * POOL_IDS);
let next = POOL_IDS;

/** 64 random bits as 16 upper-case hex digits; no two calls share a byte. */
export function randomId(): string {
  if (next === POOL_IDS) {
    randomFillSync(pool);
    next = 0;
  }
  const from = next++ * ID_BYTES;
  return pool.toString('hex', from, from + ID_BYTES).toUpperCase();
}
