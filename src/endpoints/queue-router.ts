// Routes chats to interaction endpoints: admits a chat only to an endpoint that exists and is open and
// not full, and keeps each endpoint's waiting queue (oldest first) in the session store.

import { randomBytes } from 'node:crypto';
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
const chunkKey = (endpoint: string, chunkId: string): string => `queue:${endpoint}:${chunkId}`;
/** Queues hold only ids; a chat that expired is dropped from its queue by the sweeper or on listing. */
const QUEUE_TTL_MS = 365 * 24 * 3600 * 1000;
/** Chat ids per sealed chunk: the queue's record then lists one small reference per this many chats. */
export const QUEUE_CHUNK = 64;

/**
 * An endpoint's queue, kept so that a chat joining or leaving it costs the same however many wait (one
 * key holding every id cost O(waiting chats) per change: at 5,000 waiting, a 100 kB rewrite per chat
 * start). The queue's record (`queue:<endpoint>`) holds the newest ids and a reference to each sealed
 * chunk of older ones (`queue:<endpoint>:<chunk id>`, QUEUE_CHUNK ids each, oldest first). A chat is
 * queued once, when its chat starts, with that time as `since`; each chunk records the range of its
 * chats' times, so a chat leaving finds its chunk without reading the others. A changed chunk is written
 * under a new id and the old one removed once the record names the new one, so a record always names
 * chunks that are whole (all under the queue's lock; a write that loses the race can only leave a chunk
 * nobody names). Every change rewrites the record: its references grow by one per QUEUE_CHUNK chats.
 */
interface QueueRecord {
  chunks: ChunkRef[];
  /** The newest ids, oldest first: fewer than QUEUE_CHUNK. */
  tail: string[];
  /** The range of the tail's `since` times (ms since the epoch). */
  tailFrom?: number;
  tailTo?: number;
}

interface ChunkRef {
  id: string;
  count: number;
  /** The range of its chats' `since` times. */
  from: number;
  to: number;
}

/** Earlier versions stored the whole queue as one list, of whole entries and then of ids. */
type StoredQueue = QueueRecord | (string | QueueEntry)[];

export class QueueRouter implements ChatRouter {
  constructor(
    private readonly store: Store,
    private readonly endpoints: EndpointLookup,
  ) {}

  async admit(endpoint: string): Promise<void> {
    const status = this.endpoints(endpoint);
    if (!status) throw new GatewayError('ServiceUnavailable', `The interaction endpoint '${endpoint}' is not configured.`);
    if (!status.open) throw new GatewayError('ServiceUnavailable', `The interaction endpoint '${endpoint}' is closed.`);
    if (status.maxWaiting !== undefined && (await this.count(endpoint)) >= status.maxWaiting) {
      throw new GatewayError('ServiceUnavailable', `The interaction endpoint '${endpoint}' is full; try again later.`);
    }
  }

  enqueue(endpoint: string, entry: QueueEntry): Promise<void> {
    return this.store.update<StoredQueue, void>(queueKey(endpoint), async (stored) => {
      const record = recordOf(stored);
      let tail = [...record.tail.filter((id) => id !== entry.chatSessionId), entry.chatSessionId];
      const range = { tailFrom: Math.min(record.tailFrom ?? entry.since, entry.since), tailTo: Math.max(record.tailTo ?? entry.since, entry.since) };
      const chunks = [...record.chunks];
      // (More than one chunk only for a list stored by an earlier version.)
      while (tail.length >= QUEUE_CHUNK) {
        chunks.push(await this.writeChunk(endpoint, tail.slice(0, QUEUE_CHUNK), range));
        tail = tail.slice(QUEUE_CHUNK);
      }
      const next: QueueRecord = tail.length > 0 ? { chunks, tail, ...range } : { chunks, tail };
      return { write: next, ttlMs: QUEUE_TTL_MS, result: undefined };
    });
  }

  /** `since` (when the chat was queued: its start) finds its chunk at once; without it every chunk is searched. */
  dequeue(endpoint: string, chatSessionId: string, since?: number): Promise<void> {
    return this.store.update<StoredQueue, void>(queueKey(endpoint), async (stored) => {
      const record = recordOf(stored);
      if (record.tail.includes(chatSessionId)) {
        const next: QueueRecord = { ...record, tail: record.tail.filter((id) => id !== chatSessionId) };
        if (next.tail.length === 0) next.tailFrom = next.tailTo = undefined;
        return { write: next, ttlMs: QUEUE_TTL_MS, result: undefined };
      }
      // The chunks whose time range holds `since` first; the others only if it is in none of them.
      const likely = (ref: ChunkRef): boolean => since === undefined || (ref.from <= since && since <= ref.to);
      for (const ref of [...record.chunks.filter(likely), ...record.chunks.filter((ref) => !likely(ref))]) {
        const ids = await this.readChunk(endpoint, ref);
        if (!ids.includes(chatSessionId)) continue;
        const kept = ids.filter((id) => id !== chatSessionId);
        const replacement = kept.length > 0 ? [await this.writeChunk(endpoint, kept, { tailFrom: ref.from, tailTo: ref.to })] : [];
        const chunks = record.chunks.flatMap((r) => (r === ref ? replacement : [r]));
        return {
          write: { ...record, chunks },
          ttlMs: QUEUE_TTL_MS,
          result: undefined,
          committed: () => void this.store.delete(chunkKey(endpoint, ref.id)).catch(() => undefined),
        };
      }
      return { result: undefined };
    });
  }

  /** The ids of the endpoint's waiting chats, oldest first. */
  async waiting(endpoint: string): Promise<string[]> {
    const record = recordOf(await this.store.get<StoredQueue>(queueKey(endpoint)));
    const chunks = await Promise.all(record.chunks.map((ref) => this.readChunk(endpoint, ref)));
    return [...chunks.flat(), ...record.tail];
  }

  /** How many chats wait in the endpoint (one read, whatever the queue's length). */
  async count(endpoint: string): Promise<number> {
    const record = recordOf(await this.store.get<StoredQueue>(queueKey(endpoint)));
    return record.chunks.reduce((sum, ref) => sum + ref.count, record.tail.length);
  }

  private async writeChunk(endpoint: string, ids: string[], range: Pick<QueueRecord, 'tailFrom' | 'tailTo'>): Promise<ChunkRef> {
    const ref: ChunkRef = { id: randomBytes(6).toString('hex'), count: ids.length, from: range.tailFrom ?? 0, to: range.tailTo ?? Number.MAX_SAFE_INTEGER };
    await this.store.set(chunkKey(endpoint, ref.id), ids, QUEUE_TTL_MS);
    return ref;
  }

  private async readChunk(endpoint: string, ref: ChunkRef): Promise<string[]> {
    const ids = await this.store.get<string[]>(chunkKey(endpoint, ref.id));
    if (!ids) throw new GatewayError('ServiceUnavailable', `Part of the waiting queue of '${endpoint}' could not be read from the session store.`);
    return ids;
  }
}

/** The stored queue as a record: a list stored by an earlier version is read as one long tail, sealed at the next chat queued. */
function recordOf(stored: StoredQueue | undefined): QueueRecord {
  if (stored === undefined) return { chunks: [], tail: [] };
  if (!Array.isArray(stored)) return stored;
  const tail = stored.map((e) => (typeof e === 'string' ? e : e.chatSessionId));
  // Their times are unknown: the range covers any time, so a chat leaving searches them.
  return tail.length > 0 ? { chunks: [], tail, tailFrom: 0, tailTo: Number.MAX_SAFE_INTEGER } : { chunks: [], tail };
}
