// One node's connection to Redis: a command client shared by the session data, the key locks and the
// pub/sub publisher, plus a subscriber client for the cross-node bridge. Configured so that a Redis that
// is down makes calls fail fast (the store turns that into 503) and the node reconnects by itself.

import { createClient, type RedisClientType } from '@keyv/redis';
import type { Logger } from '../log.ts';
import { OutageLog } from '../outage-log.ts';
import { StoreUnreachable } from './outage.ts';

export type RedisClient = RedisClientType;

export interface RedisConnectionOptions {
  url: string;
  log: Logger;
  /** Longest wait for one Redis command before it fails (and the call gets 503). */
  commandTimeoutMs?: number;
  /** Longest wait for the first connection at start-up. */
  connectTimeoutMs?: number;
}

export class RedisConnection {
  private subscriberClient: RedisClient | undefined;
  private closed = false;
  /** One warning when Redis stops answering and one line when it is back, not one per reconnect attempt. */
  private readonly outage: OutageLog;

  private constructor(
    /** Commands in the order this node issues them (a lock release is sent after the publish it guards). */
    readonly client: RedisClient,
    log: Logger,
    private readonly commandTimeoutMs: number,
  ) {
    this.outage = new OutageLog(log, { down: 'Redis is not answering; calls get 503 until it is back', back: 'Redis is back' });
  }

  /** Whether Redis is known to be unreachable now (its reconnect errors are then already accounted for). */
  get down(): boolean {
    return this.outage.down;
  }

  static async open({
    url,
    log,
    commandTimeoutMs = 2000,
    connectTimeoutMs = 5000,
  }: RedisConnectionOptions): Promise<RedisConnection> {
    const client = createClient({
      url,
      // Without this, commands issued while Redis is down wait in an offline queue until it is back:
      // the customer's call would hang instead of getting a 503.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: connectTimeoutMs,
        // Keep trying for ever, backing off to 1 s: the node recovers by itself when Redis is back.
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000),
      },
    }) as RedisClient;
    const connection = new RedisConnection(client, log, commandTimeoutMs);
    connection.watch(client, 'commands');
    const unreachable = new Error(`Redis at ${redactUrl(url)} is not reachable`);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.connect(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(unreachable), connectTimeoutMs);
        }),
      ]);
    } catch (err) {
      await connection.close();
      if (err === unreachable) throw unreachable;
      throw new Error(`Redis at ${redactUrl(url)}: ${String(err)}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
    return connection;
  }

  /**
   * A command's reply, or StoreUnreachable once the command timeout has passed. node-redis's own timeout
   * only covers commands not yet written: one written to a Redis that hangs (frozen, overloaded, behind a
   * partition that drops packets) waits until TCP gives up, minutes later. The command stays in the
   * pipeline, so later replies still match their commands; only the caller stops waiting.
   */
  timed<T>(pending: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StoreUnreachable(`Redis did not answer within ${this.commandTimeoutMs} ms`)),
        this.commandTimeoutMs,
      );
    });
    return Promise.race([pending, expired]).finally(() => clearTimeout(timer));
  }

  /** A second connection in subscriber mode (Redis allows no other commands on it). */
  async subscriber(): Promise<RedisClient> {
    if (!this.subscriberClient) {
      const sub = this.client.duplicate() as RedisClient;
      this.watch(sub, 'subscriber');
      this.subscriberClient = sub;
      await sub.connect();
    }
    return this.subscriberClient;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const client of [this.subscriberClient, this.client]) {
      // destroy(): nothing is left to flush once the gateway has stopped, and quit() would wait for a Redis that may be down.
      if (client?.isOpen) client.destroy();
    }
    return Promise.resolve();
  }

  private watch(client: RedisClient, role: string): void {
    // node-redis emits 'error' for every failed reconnect attempt; an unhandled 'error' would crash the node.
    client.on('error', (err: unknown) => this.outage.failed(err, role));
    client.on('ready', () => this.outage.recovered(role));
  }
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
