// A KeyLock that holds across gateway nodes: a lease in Redis (SET NX PX with a random token), renewed
// while its holder works, and released only by its holder (a Lua compare-and-delete).
//
// Why a lock, and not WATCH/MULTI, a Lua script or per-event keys: the chat domain's update of a session
// is get → decide → set, where "decide" is domain code (state machine, limits, routing) that must stay
// free of Redis. A lock keeps that contract (KeyvStore.update = withLock(get → fn → set)), keeps the data
// in keyv with Redis's own TTLs, and lets every backend share one update path. WATCH/MULTI would need the
// get and set on the lock's own connection, bypassing keyv; optimistic retries would also re-run `fn`,
// whose side effects (the endpoint's queue, the chat index key) are not idempotent. Per-event keys with
// INCR would number events, but a session is more than its events (state, agents, positions).
//
// Numbering and order: the holder reads the session, appends events numbered from its length, writes it
// back and publishes the new events before it releases, so events are numbered 1..n without gaps and
// every node sees them in that one order. The publish and the release go on the same connection
// (RedisConnection.client), so Redis handles the publish first: the next holder's events are published
// after them, and the pub/sub order across nodes is the commit order.
//
// Fencing and timeouts: the lease lasts `leaseMs` and is renewed every leaseMs/3 while the holder runs.
// A holder can still lose it while at work: its process froze for a whole lease, or Redis hung and,
// answering again, found the lease expired with the holder's write still queued behind it. So the
// holder's data write is fenced: keyv's adapter writes through `fencedClient()`, which turns the SET
// (or UNLINK) of a key whose lease this node holds into a Lua script that writes only if the lock key
// still holds this holder's token, atomically in Redis. A late write fails (the caller gets 503) instead
// of overwriting what the next holder wrote. A node that dies holding a lease blocks that one chat for
// at most `leaseMs`. Waiting for a lease gives up after `acquireTimeoutMs` with 503, so no call hangs
// longer than a few seconds.
//
// Within a node, waiters queue locally (LocalLock) first, so only one waiter per node polls Redis.

import { randomUUID } from 'node:crypto';
import { GatewayError } from '../errors.ts';
import { LocalLock } from './local-lock.ts';
import { isOutage } from './outage.ts';
import type { RedisClient } from './redis-connection.ts';
import type { KeyLock } from './store.ts';

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const LEASE_LOST = "redis.error_reply('LEASELOST the session lock expired before this write')";
const FENCED_SET = `if redis.call('get', KEYS[1]) ~= ARGV[1] then return ${LEASE_LOST} end
if ARGV[3] == '' then return redis.call('set', KEYS[2], ARGV[2]) end
return redis.call('set', KEYS[2], ARGV[2], 'PX', ARGV[3])`;
const FENCED_UNLINK = `if redis.call('get', KEYS[1]) ~= ARGV[1] then return ${LEASE_LOST} end
return redis.call('unlink', KEYS[2])`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

export interface RedisLockOptions {
  /** How long a lease lasts without renewal: the longest a crashed node can block one chat. */
  leaseMs?: number;
  /** How long a call waits for a lease before it gets 503. */
  acquireTimeoutMs?: number;
  /** Logs a lease lost while its holder was at work. */
  onLeaseLost?: (key: string) => void;
}

export class RedisLock implements KeyLock {
  private readonly local = new LocalLock();
  /** The token of each lease this node holds, by store key (LocalLock allows one holder per key here). */
  private readonly held = new Map<string, string>();
  private readonly leaseMs: number;
  private readonly acquireTimeoutMs: number;

  constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
    private readonly options: RedisLockOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? 3000;
    this.acquireTimeoutMs = options.acquireTimeoutMs ?? 3000;
  }

  withLock<R>(key: string, fn: () => Promise<R>): Promise<R> {
    return this.local.withLock(key, () => this.withLease(this.lockKey(key), key, fn));
  }

  close(): Promise<void> {
    return this.local.close();
  }

  /**
   * The client for keyv's Redis adapter, whose data keys are `<dataPrefix><store key>`: its SET and
   * UNLINK of a key under a lease held here run only while the lease is still this holder's.
   */
  fencedClient(dataPrefix: string): RedisClient {
    const fence = (dataKey: unknown): { lockKey: string; token: string } | undefined => {
      if (typeof dataKey !== 'string' || !dataKey.startsWith(dataPrefix)) return undefined;
      const key = dataKey.slice(dataPrefix.length);
      const token = this.held.get(key);
      return token === undefined ? undefined : { lockKey: this.lockKey(key), token };
    };
    const client = this.client;
    return new Proxy(client, {
      get(target, property) {
        if (property === 'set') {
          return (dataKey: string, value: string, options?: { PX?: number }) => {
            const fenced = fence(dataKey);
            const plain = options === undefined || (Object.keys(options).length === 1 && typeof options.PX === 'number');
            if (!fenced || !plain) return target.set(dataKey, value, options);
            return target.eval(FENCED_SET, { keys: [fenced.lockKey, dataKey], arguments: [fenced.token, value, options?.PX ? String(options.PX) : ''] });
          };
        }
        if (property === 'unlink' || property === 'del') {
          return (dataKey: string) => {
            const fenced = fence(dataKey);
            if (!fenced) return target[property](dataKey);
            return target.eval(FENCED_UNLINK, { keys: [fenced.lockKey, dataKey], arguments: [fenced.token] });
          };
        }
        return Reflect.get(target, property, target);
      },
    });
  }

  private lockKey(key: string): string {
    return `${this.prefix}:lock:${key}`;
  }

  private async withLease<R>(lockKey: string, key: string, fn: () => Promise<R>): Promise<R> {
    const token = randomUUID();
    await this.acquire(lockKey, token);
    this.held.set(key, token);
    let lost = false;
    const renewal = setInterval(() => {
      this.client.eval(RENEW, { keys: [lockKey], arguments: [token, String(this.leaseMs)] }).then(
        (renewed) => {
          if (renewed === 0) lost = true;
        },
        // A renewal that fails because Redis is down leaves the holder's own commands to fail too.
        () => undefined,
      );
    }, Math.max(10, Math.floor(this.leaseMs / 3)));
    renewal.unref();
    try {
      return await fn();
    } finally {
      clearInterval(renewal);
      this.held.delete(key);
      const released = await this.client.eval(RELEASE, { keys: [lockKey], arguments: [token] }).catch(() => undefined);
      // undefined: Redis is unreachable; the lease then simply runs out.
      if (lost || released === 0) this.options.onLeaseLost?.(key);
    }
  }

  private async acquire(lockKey: string, token: string): Promise<void> {
    const deadline = Date.now() + this.acquireTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      let reply: string | null;
      try {
        reply = await this.client.set(lockKey, token, { condition: 'NX', expiration: { type: 'PX', value: this.leaseMs } });
      } catch (err) {
        // A Redis that hangs may still apply this SET once it answers again: a release queued behind it
        // on the same connection keeps it from leaving a lease that nobody holds.
        this.client.eval(RELEASE, { keys: [lockKey], arguments: [token] }).catch(() => undefined);
        if (!isOutage(err)) throw err;
        throw new GatewayError('ServiceUnavailable', 'The session store is not reachable; try again shortly.', { cause: err });
      }
      if (reply === 'OK') return;
      if (Date.now() >= deadline) throw unavailable('The chat is busy; try again shortly.');
      // Short, jittered waits: a lease is normally held for two round trips to Redis.
      await new Promise((resolve) => setTimeout(resolve, Math.min(1 + attempt, 10) * (0.5 + Math.random())));
    }
  }
}

function unavailable(message: string): GatewayError {
  return new GatewayError('ServiceUnavailable', message);
}
