// A KeyLock that holds across gateway nodes: a lease in Redis (SET NX PX with a random token), renewed
// while its holder works, and released only by its holder (a Lua compare-and-delete).
//
// Why a lock: the chat domain's update of a session is get → decide → write, where "decide" is domain
// code (state machine, limits, routing) that must stay free of Redis. The lock keeps that contract on
// every backend; the write itself is one Lua script (redis-backend.ts) covering the session and every
// key and set member the change touches.
//
// Numbering and order: the holder reads the session, appends events numbered from its length, writes it
// back and publishes the new events before it releases, so events are numbered 1..n without gaps and
// every node sees them in that one order. The publish and the release go on the same connection, so
// Redis handles the publish first: the pub/sub order across nodes is the commit order.
//
// Fencing: the lease lasts `leaseMs` and is renewed every leaseMs/3 while the holder runs. A holder can
// still lose it while at work (its process froze for a whole lease, or Redis hung and, answering again,
// found the lease expired with the holder's write still queued behind it). So the holder hands its
// token (a Fence) to the write, whose script writes nothing unless the lock key still holds that token:
// a late write fails (the caller gets 503) instead of overwriting what the next holder wrote. A node
// that dies holding a lease blocks that one chat for at most `leaseMs`; waiting for a lease gives up
// after `acquireTimeoutMs` with 503.
//
// Within a node, waiters queue locally (LocalLock) first, so only one waiter per node polls Redis.

import { randomUUID } from 'node:crypto';
import { GatewayError } from '../errors.ts';
import { LocalLock } from './local-lock.ts';
import { isOutage } from './outage.ts';
import type { RedisConnection } from './redis-connection.ts';
import type { Fence, KeyLock } from './store.ts';

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
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
  private readonly leaseMs: number;
  private readonly acquireTimeoutMs: number;

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly options: RedisLockOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? 3000;
    this.acquireTimeoutMs = options.acquireTimeoutMs ?? 3000;
  }

  withLock<R>(key: string, fn: (fence?: Fence) => Promise<R>): Promise<R> {
    return this.local.withLock(key, () => this.withLease(`${this.prefix}:lock:${key}`, key, fn));
  }

  close(): Promise<void> {
    return this.local.close();
  }

  private async withLease<R>(lockKey: string, key: string, fn: (fence: Fence) => Promise<R>): Promise<R> {
    const token = randomUUID();
    await this.acquire(lockKey, token);
    const client = this.redis.client;
    let lost = false;
    const renewal = setInterval(
      () => {
        this.redis.timed(client.eval(RENEW, { keys: [lockKey], arguments: [token, String(this.leaseMs)] })).then(
          (renewed) => {
            if (renewed === 0) lost = true;
          },
          // A renewal that fails because Redis is down leaves the holder's own commands to fail too.
          () => undefined,
        );
      },
      Math.max(10, Math.floor(this.leaseMs / 3)),
    );
    renewal.unref();
    try {
      return await fn({ lockKey, token });
    } finally {
      clearInterval(renewal);
      const released = await this.redis
        .timed(client.eval(RELEASE, { keys: [lockKey], arguments: [token] }))
        .catch(() => undefined);
      // undefined: Redis is unreachable; the lease then simply runs out.
      if (lost || released === 0) this.options.onLeaseLost?.(key);
    }
  }

  private async acquire(lockKey: string, token: string): Promise<void> {
    const client = this.redis.client;
    const deadline = Date.now() + this.acquireTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      let reply: string | null;
      try {
        reply = await this.redis.timed(
          client.set(lockKey, token, { condition: 'NX', expiration: { type: 'PX', value: this.leaseMs } }),
        );
      } catch (err) {
        // A Redis that hangs may still apply this SET once it answers again: a release queued behind it
        // on the same connection keeps it from leaving a lease that nobody holds.
        client.eval(RELEASE, { keys: [lockKey], arguments: [token] }).catch(() => undefined);
        if (!isOutage(err)) throw err;
        throw new GatewayError('ServiceUnavailable', 'The session store is not reachable; try again shortly.', { cause: err });
      }
      if (reply === 'OK') return;
      if (Date.now() >= deadline) throw new GatewayError('ServiceUnavailable', 'The chat is busy; try again shortly.');
      // Short, jittered waits: a lease is normally held for two round trips to Redis.
      await new Promise((resolve) => setTimeout(resolve, Math.min(1 + attempt, 10) * (0.5 + Math.random())));
    }
  }
}
