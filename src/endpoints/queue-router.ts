// Routes chats to interaction endpoints: admits a chat only to an endpoint that exists and is open and
// not full, and keeps each endpoint's waiting queue (oldest first) in the session store.

import { randomBytes } from 'node:crypto';
import type { ChatRouter, QueueEntry } from '../chat/types.ts';
import { GatewayError } from '../errors.ts';
import type { Change, Store } from '../store/store.ts';

export interface EndpointStatus {
  open: boolean;
  /** Most chats that may wait at once; undefined for no cap. */
  maxWaiting?: number;
}

export type EndpointLookup = (name: string) => EndpointStatus | undefined;

/** Shards of a queue: chats joining and leaving different shards are written together (group commit). */
export const QUEUE_SHARDS = 16;
/** Shard 0 keeps the key of the unsharded queue of earlier versions, so what they stored is read as it. */
const shardKey = (endpoint: string, shard: number): string => (shard === 0 ? `queue:${endpoint}` : `queue:${endpoint}#${shard}`);
const chunkKey = (recordKey: string, chunkId: string): string => `${recordKey}:${chunkId}`;
/** Queues hold only ids; a chat that expired is dropped from its queue by the sweeper or on listing. */
const QUEUE_TTL_MS = 365 * 24 * 3600 * 1000;
/** Chat ids per sealed chunk: the queue's record then lists one small reference per this many chats. */
export const QUEUE_CHUNK = 64;

/**
 * An endpoint's queue, kept so that a chat joining or leaving it costs the same however many wait (one
 * key holding every id cost O(waiting chats) per change: at 5,000 waiting, a 100 kB rewrite per chat
 * start), and so that chats starting together are not written one after another.
 * Shards: a chat's id picks one of QUEUE_SHARDS records. Every change of one record waits for the one
 * before it to be committed; with one record for the whole endpoint, chat starts and leaves went to the
 * file one transaction each (a chat start and leave cost 440-470 µs of CPU per request, against
 * 240-260 µs with no queue at all); spread over shards, they share transactions.
 * Chunks: a shard's record holds its newest ids and a reference to each sealed chunk of older ones
 * (`<record key>:<chunk id>`, QUEUE_CHUNK ids each). A chat is queued once, when its chat starts, with
 * that time as `since`; each chunk records the range of its chats' times, so a chat leaving finds its
 * chunk without reading the others. A changed chunk is written under a new id and the old one removed
 * once the record names the new one, so a record always names chunks that are whole (all under the
 * record's lock; a write that loses the race can only leave a chunk nobody names).
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
    const key = shardKey(endpoint, shardOf(entry.chatSessionId));
    return this.store.update<StoredQueue, void>(key, async (stored) => {
      const record = recordOf(stored);
      let tail = [...record.tail.filter((id) => id !== entry.chatSessionId), entry.chatSessionId];
      const range = { tailFrom: Math.min(record.tailFrom ?? entry.since, entry.since), tailTo: Math.max(record.tailTo ?? entry.since, entry.since) };
      const chunks = [...record.chunks];
      // (More than one chunk only for a list stored by an earlier version.)
      while (tail.length >= QUEUE_CHUNK) {
        chunks.push(await this.writeChunk(key, tail.slice(0, QUEUE_CHUNK), range));
        tail = tail.slice(QUEUE_CHUNK);
      }
      const next: QueueRecord = tail.length > 0 ? { chunks, tail, ...range } : { chunks, tail };
      return { write: next, ttlMs: QUEUE_TTL_MS, result: undefined };
    });
  }

  /** `since` (when the chat was queued: its start) finds its chunk at once; without it every chunk is searched. */
  async dequeue(endpoint: string, chatSessionId: string, since?: number): Promise<void> {
    const shard = shardOf(chatSessionId);
    // A chat queued by an earlier version, before shards, is in shard 0.
    if (!(await this.remove(shardKey(endpoint, shard), chatSessionId, since)) && shard !== 0) {
      await this.remove(shardKey(endpoint, 0), chatSessionId, since);
    }
  }

  /** The ids of the endpoint's waiting chats, shard by shard (oldest first within each: sort by time for the order). */
  async waiting(endpoint: string): Promise<string[]> {
    const records = await this.records(endpoint);
    const ids = await Promise.all(
      records.map(async ([key, record]) => [...(await Promise.all(record.chunks.map((ref) => this.readChunk(key, ref)))).flat(), ...record.tail]),
    );
    return ids.flat();
  }

  /** How many chats wait in the endpoint (one read per shard, whatever the queue's length). */
  async count(endpoint: string): Promise<number> {
    let count = 0;
    for (const [, record] of await this.records(endpoint)) count += record.chunks.reduce((sum, ref) => sum + ref.count, record.tail.length);
    return count;
  }

  private async records(endpoint: string): Promise<[string, QueueRecord][]> {
    const keys = Array.from({ length: QUEUE_SHARDS }, (_, shard) => shardKey(endpoint, shard));
    const stored = await Promise.all(keys.map((key) => this.store.get<StoredQueue>(key)));
    return keys.map((key, i) => [key, recordOf(stored[i])]);
  }

  /** Takes a chat out of one shard; false when it is not there. */
  private remove(key: string, chatSessionId: string, since: number | undefined): Promise<boolean> {
    return this.store.update<StoredQueue, boolean>(key, async (stored) => {
      const record = recordOf(stored);
      if (record.tail.includes(chatSessionId)) {
        const tail = record.tail.filter((id) => id !== chatSessionId);
        return afterLeaving(tail.length > 0 ? { ...record, tail } : { chunks: record.chunks, tail });
      }
      // The chunks whose time range holds `since` first; the others only if it is in none of them.
      const likely = (ref: ChunkRef): boolean => since === undefined || (ref.from <= since && since <= ref.to);
      for (const ref of [...record.chunks.filter(likely), ...record.chunks.filter((ref) => !likely(ref))]) {
        const ids = await this.readChunk(key, ref);
        if (!ids.includes(chatSessionId)) continue;
        const kept = ids.filter((id) => id !== chatSessionId);
        const replacement = kept.length > 0 ? [await this.writeChunk(key, kept, { tailFrom: ref.from, tailTo: ref.to })] : [];
        const chunks = record.chunks.flatMap((r) => (r === ref ? replacement : [r]));
        return { ...afterLeaving({ ...record, chunks }), committed: () => void this.store.delete(chunkKey(key, ref.id)).catch(() => undefined) };
      }
      return { result: false };
    });
  }

  private async writeChunk(key: string, ids: string[], range: Pick<QueueRecord, 'tailFrom' | 'tailTo'>): Promise<ChunkRef> {
    const ref: ChunkRef = { id: randomBytes(6).toString('hex'), count: ids.length, from: range.tailFrom ?? 0, to: range.tailTo ?? Number.MAX_SAFE_INTEGER };
    await this.store.set(chunkKey(key, ref.id), ids, QUEUE_TTL_MS);
    return ref;
  }

  private async readChunk(key: string, ref: ChunkRef): Promise<string[]> {
    const ids = await this.store.get<string[]>(chunkKey(key, ref.id));
    if (!ids) throw new GatewayError('ServiceUnavailable', 'Part of a waiting queue could not be read from the session store.');
    return ids;
  }
}

/** The change that stores a shard after a chat left it: an empty shard is removed, as an absent one reads the same. */
function afterLeaving(next: QueueRecord): Change<StoredQueue, boolean> {
  if (next.tail.length === 0 && next.chunks.length === 0) return { remove: true, result: true };
  return { write: next, ttlMs: QUEUE_TTL_MS, result: true };
}

/** The shard of a chat: FNV-1a of its id. */
function shardOf(chatSessionId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < chatSessionId.length; i++) hash = Math.imul(hash ^ chatSessionId.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % QUEUE_SHARDS;
}

/** A stored shard as a record: a list stored by an earlier version is read as one long tail, sealed when a chat is next queued in it. */
function recordOf(stored: StoredQueue | undefined): QueueRecord {
  if (stored === undefined) return { chunks: [], tail: [] };
  if (!Array.isArray(stored)) return stored;
  const tail = stored.map((e) => (typeof e === 'string' ? e : e.chatSessionId));
  // Their times are unknown: the range covers any time, so a chat leaving searches them.
  return tail.length > 0 ? { chunks: [], tail, tailFrom: 0, tailTo: Number.MAX_SAFE_INTEGER } : { chunks: [], tail };
}
