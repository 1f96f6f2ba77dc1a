// Request rate limits per client address and per service session: in-memory token buckets, bounded in
// memory, answering 429 RateLimited with Retry-After when a bucket is empty.

import type { Context } from 'koa';
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

/** `/genesys/1/service/{id}/ixn/...`: the service session a request works on. */
const SESSION_PATH = /^\/genesys\/1\/service\/([^/]+)\/ixn(?:\/|$)/;
/** Operators' probes are never limited. */
const UNLIMITED_PATHS = new Set(['/healthz', '/metrics']);

/** Takes a request's tokens, or throws RateLimited (with Retry-After) when a bucket is empty. */
export type RateLimiter = (ctx: Context) => void;

export function rateLimiter(options: RateLimitOptions): RateLimiter {
  const exempt = new Set(options.exempt);
  const byIp = options.perIp.perSecond > 0 ? new TokenBuckets(options.perIp, options.maxKeys) : undefined;
  const bySession = options.perSession.perSecond > 0 ? new TokenBuckets(options.perSession, options.maxKeys) : undefined;

  return (ctx) => {
    const ip = ctx.request.ip;
    if (exempt.has(ip) || UNLIMITED_PATHS.has(ctx.path)) return;
    const session = bySession && sessionOf(ctx.path);
    const wait = byIp?.take(ip) || (session ? bySession.take(session) : 0);
    if (wait > 0) {
      throw new GatewayError('RateLimited', `Too many requests; try again in ${wait} second(s).`, {
        headers: { 'Retry-After': String(wait) },
      });
    }
  };
}

/** The session id of a chat call, decoded so that one session cannot hide behind several spellings. */
function sessionOf(pathname: string): string | undefined {
  const raw = SESSION_PATH.exec(pathname)?.[1];
  if (raw === undefined) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
