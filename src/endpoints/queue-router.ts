// Routes chats to interaction endpoints: admits a chat only to an endpoint that exists and is open and
// not full, and keeps each endpoint's waiting queue (oldest first) in the session store.

import type { ChatRouter, QueueEntry } from '../chat/types.ts';
import { GatewayError } from '../errors.ts';
import type { Store } from '../store/store.ts';

export interface EndpointStatus {
  open: boolean;
  /** Most chats that may wait at once; undefined for no cap. */
  maxWaiting?: number;
}

export type EndpointLookup = (name: string) => EndpointStatus | undefined;

const queueKey = (endpoint: string): string => `queue:${endpoint}`;
/** Queues hold only ids; a chat that expired is dropped from its queue by the sweeper or on listing. */
const QUEUE_TTL_MS = 365 * 24 * 3600 * 1000;

export class QueueRouter implements ChatRouter {
  constructor(
    private readonly store: Store,
    private readonly endpoints: EndpointLookup,
  ) {}

  async admit(endpoint: string): Promise<void> {
    const status = this.endpoints(endpoint);
    if (!status) throw new GatewayError('ServiceUnavailable', `The interaction endpoint '${endpoint}' is not configured.`);
    if (!status.open) throw new GatewayError('ServiceUnavailable', `The interaction endpoint '${endpoint}' is closed.`);
    if (status.maxWaiting !== undefined) {
      const waiting = await this.waiting(endpoint);
      if (waiting.length >= status.maxWaiting) {
        throw new GatewayError('ServiceUnavailable', `The interaction endpoint '${endpoint}' is full; try again later.`);
      }
    }
  }

  enqueue(endpoint: string, entry: QueueEntry): Promise<void> {
    return this.store.update<QueueEntry[], void>(queueKey(endpoint), (queue = []) => ({
      write: [...queue.filter((e) => e.chatSessionId !== entry.chatSessionId), entry],
      ttlMs: QUEUE_TTL_MS,
      result: undefined,
    }));
  }

  dequeue(endpoint: string, chatSessionId: string): Promise<void> {
    return this.store.update<QueueEntry[], void>(queueKey(endpoint), (queue) => {
      if (!queue?.some((e) => e.chatSessionId === chatSessionId)) return { result: undefined };
      return { write: queue.filter((e) => e.chatSessionId !== chatSessionId), ttlMs: QUEUE_TTL_MS, result: undefined };
    });
  }

  /** The endpoint's waiting chats, oldest first. */
  async waiting(endpoint: string): Promise<QueueEntry[]> {
    return (await this.store.get<QueueEntry[]>(queueKey(endpoint))) ?? [];
  }
}
