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

/**
 * An endpoint's queue is one store key holding its chat ids, oldest first (the order they came in):
 * every enqueue and dequeue rewrites it under the key's lock, so each costs O(waiting chats). Ids alone
 * (no service id, no time) keep that JSON about five times smaller than whole entries, and `maxWaiting`
 * bounds it. Spreading a queue over one key per chat would make each write O(1) but listing or counting
 * it a scan of the whole store (the Store interface has no per-prefix index), and admission counts the
 * queue on every chat start; a list split over several keys would need two keys changed together,
 * which the Store cannot do atomically. Queues of many thousands would want a list primitive in the
 * Store (a Redis sorted set by time), not a workaround above it.
 */
type StoredQueue = (string | QueueEntry)[];

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
    return this.store.update<StoredQueue, void>(queueKey(endpoint), (queue = []) => ({
      write: [...chatIds(queue).filter((id) => id !== entry.chatSessionId), entry.chatSessionId],
      ttlMs: QUEUE_TTL_MS,
      result: undefined,
    }));
  }

  dequeue(endpoint: string, chatSessionId: string): Promise<void> {
    return this.store.update<StoredQueue, void>(queueKey(endpoint), (queue) => {
      const ids = chatIds(queue ?? []);
      if (!ids.includes(chatSessionId)) return { result: undefined };
      // A new array: the stored queue is a shared snapshot (store.ts).
      return { write: ids.filter((id) => id !== chatSessionId), ttlMs: QUEUE_TTL_MS, result: undefined };
    });
  }

  /** The ids of the endpoint's waiting chats, oldest first. */
  async waiting(endpoint: string): Promise<string[]> {
    return chatIds((await this.store.get<StoredQueue>(queueKey(endpoint))) ?? []);
  }
}

/** Queues stored by earlier versions hold whole entries; they are read as ids and written back as ids. */
function chatIds(queue: StoredQueue): string[] {
  return queue.map((e) => (typeof e === 'string' ? e : e.chatSessionId));
}
