// Request rate limits per client address and per service session: in-memory token buckets, bounded in
// memory, answering 429 RateLimited with Retry-After when a bucket is empty.

import { GatewayError } from '../errors.ts';

export interface Rate {
  /** Tokens added per second; 0 turns the limit off. */
  perSecond: number;
  /** Bucket size: how many requests may arrive at once after a quiet spell. */
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets by key. A bucket that has refilled is the same as no bucket, so idle buckets are
 * forgotten; past `maxKeys` the least recently used key goes first (it only ever gets a fresh bucket).
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly rate: Rate,
    private readonly maxKeys = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.buckets.size;
  }

  /** Takes one token for `key`: 0 when allowed, else the seconds until one is available. */
  take(key: string): number {
    const now = this.now();
    const { perSecond, burst } = this.rate;
    const old = this.buckets.get(key);
    const tokens = old ? Math.min(burst, old.tokens + ((now - old.at) / 1000) * perSecond) : burst;
    // Re-inserting keeps the Map in least-recently-used order, oldest first.
    this.buckets.delete(key);
    if (tokens < 1) {
      this.buckets.set(key, { tokens, at: now });
      return Math.max(1, Math.ceil((1 - tokens) / perSecond));
    }
    this.buckets.set(key, { tokens: tokens - 1, at: now });
    this.evict(now);
    return 0;
  }

  private evict(now: number): void {
    const fullAfterMs = (this.rate.burst / this.rate.perSecond) * 1000;
    for (const [key, bucket] of this.buckets) {
      if (this.buckets.size <= this.maxKeys && now - bucket.at < fullAfterMs) break;
      this.buckets.delete(key);
    }
  }
}

export interface RateLimitOptions {
  perIp: Rate;
  perSession: Rate;
  /** Client addresses that are never limited. */
  exempt: string[];
  maxKeys?: number;
}

/**
 * The per-address and per-session buckets of one gateway, shared by every door: the HTTP edge takes an
 * address's token per request, the chat routes a session's token keyed by the id the router matched,
 * and other protocols (CometD) ask how long an address must wait and answer in their own format.
 */
export class RateLimiter {
  private readonly exempt: ReadonlySet<string>;
  private readonly byAddress?: TokenBuckets;
  private readonly bySession?: TokenBuckets;

  constructor(options: RateLimitOptions) {
    this.exempt = new Set(options.exempt);
    if (options.perIp.perSecond > 0) this.byAddress = new TokenBuckets(options.perIp, options.maxKeys);
    if (options.perSession.perSecond > 0) this.bySession = new TokenBuckets(options.perSession, options.maxKeys);
  }

  /** Whether an address is never limited (RATE_LIMIT_EXEMPT). */
  isExempt(address: string): boolean {
    return this.exempt.has(address);
  }

  /** The address as the per-address caps count it: undefined for an exempt one (never capped). */
  capped(address: string): string | undefined {
    return this.exempt.has(address) ? undefined : address;
  }

  /** Takes one token of the address's bucket: 0 when allowed, else the seconds until one is available. */
  addressWait(address: string): number {
    if (!this.byAddress || this.exempt.has(address)) return 0;
    return this.byAddress.take(address);
  }

  /** Takes one token of the address's bucket, or throws RateLimited. */
  checkAddress(address: string): void {
    throwIfWaiting(this.addressWait(address));
  }

  /**
   * Takes one token of a service session's bucket, or throws RateLimited. The id is the one the router
   * matched (decoded); paths match case-insensitively, so its case never makes another bucket.
   */
  checkSession(address: string, sessionId: string): void {
    if (!this.bySession || this.exempt.has(address)) return;
    throwIfWaiting(this.bySession.take(sessionId.toLowerCase()));
  }
}

/** The HTTP answer over a rate (CometD answers in Bayeux's format, from addressWait). */
function rateLimited(wait: number): GatewayError {
  return new GatewayError('RateLimited', `Too many requests; try again in ${wait} second(s).`, {
    headers: { 'Retry-After': String(wait) },
  });
}

function throwIfWaiting(wait: number): void {
  if (wait > 0) throw rateLimited(wait);
}
