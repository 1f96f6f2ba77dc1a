// Carries committed chat updates between gateway nodes through Redis pub/sub, so that a CometD customer
// or an agent connected to node A sees what a call on node B changed, once.
//
// Local first, with origin ids: a node's own updates reach its ChatHub subscribers directly (the domain
// publishes them inside the session's lock, in commit order), and the bridge also publishes each one to
// Redis tagged with this node's id. What arrives from Redis with this node's id is dropped; everything
// else is handed to the local hub, marked so that the bridge does not publish it back out. Why not
// "publish everything to Redis and deliver only what comes back": local pushes would then wait for a
// Redis round trip, would leave the lock's ordering, and would stop altogether whenever the subscriber
// connection is reconnecting, although the change itself was stored.
//
// Order across nodes: the publish goes on the command connection that also releases the session's lock
// (see redis-lock.ts), so updates of one chat reach every node in commit order. Redis pub/sub is
// at-most-once: an update published while a node's subscriber is reconnecting is not replayed to it;
// polling clients are unaffected, and CometD clients catch up on their next refresh.

import { randomUUID } from 'node:crypto';
import type { ChatUpdate } from '../chat/types.ts';
import type { Logger } from '../log.ts';
import type { RedisConnection } from '../store/redis-connection.ts';
import type { ChatHub } from './chat-hub.ts';

interface Envelope {
  origin: string;
  update: ChatUpdate;
}

export interface RedisBridgeOptions {
  redis: RedisConnection;
  /** The store prefix: nodes of one deployment share it, other deployments on the same Redis do not. */
  prefix: string;
  hub: ChatHub;
  log: Logger;
}

export class RedisBridge {
  /** This node's id in the envelopes it publishes. */
  readonly nodeId = randomUUID();
  private readonly channel: string;
  /** Updates that came from other nodes: delivered locally, never published again. */
  private readonly fromOtherNodes = new WeakSet<ChatUpdate>();
  private unsubscribeHub: (() => void) | undefined;
  private closed = false;

  private constructor(private readonly options: RedisBridgeOptions) {
    this.channel = `${options.prefix}:chat-updates`;
  }

  static async start(options: RedisBridgeOptions): Promise<RedisBridge> {
    const bridge = new RedisBridge(options);
    const subscriber = await options.redis.subscriber();
    await subscriber.subscribe(bridge.channel, (message: string) => bridge.receive(message));
    bridge.unsubscribeHub = options.hub.subscribe((update) => bridge.forward(update));
    return bridge;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribeHub?.();
    const subscriber = await this.options.redis.subscriber();
    if (subscriber.isReady) await subscriber.unsubscribe(this.channel).catch(() => undefined);
  }

  private forward(update: ChatUpdate): void {
    if (this.fromOtherNodes.has(update)) return;
    const envelope: Envelope = { origin: this.nodeId, update };
    this.options.redis.client.publish(this.channel, JSON.stringify(envelope)).catch((err: unknown) => {
      // The change is stored; only other nodes' push clients miss it, and they catch up on refresh.
      this.options.log.warn(
        { err: String(err), chatSessionId: update.chatSessionId },
        'a chat update could not be sent to the other nodes',
      );
    });
  }

  private receive(message: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(message) as Envelope;
    } catch {
      this.options.log.warn({ channel: this.channel }, 'ignored a message that is not a chat update');
      return;
    }
    if (!envelope || typeof envelope.origin !== 'string' || typeof envelope.update?.chatSessionId !== 'string') return;
    if (envelope.origin === this.nodeId || this.closed) return;
    this.fromOtherNodes.add(envelope.update);
    this.options.hub.chatUpdated(envelope.update);
  }
}
