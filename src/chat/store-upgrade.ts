// Brings a store written by the previous version to this version's layout, once, at start-up: its
// queues, agents' lists and comet index were records of their own, written after the session; now they
// are sets written with it (session-records.ts). Each stored session adds its places under its own lock,
// so chats changing meanwhile are indexed as they are now; the old records are then removed.

import type { Store } from '../store/store.ts';

const LAYOUT_KEY = 'store-layout';
const LAYOUT = 2;
/** Records of the previous layout, replaced by sets. */
const REPLACED = ['queue:', 'agent-chats:', 'comet:'];
const KEEP_MS = 100 * 365 * 24 * 3600 * 1000;

export async function upgradeStore(store: Store, sessions: { reindex(id: string): Promise<void> }): Promise<void> {
  if ((await store.get<number>(LAYOUT_KEY)) === LAYOUT) return;
  const ids: string[] = [];
  const replaced: string[] = [];
  for await (const [key] of store.entries('')) {
    if (key.startsWith('session:')) ids.push(key.slice('session:'.length));
    else if (REPLACED.some((prefix) => key.startsWith(prefix))) replaced.push(key);
  }
  for (const id of ids) await sessions.reindex(id);
  if (replaced.length > 0) await store.write(replaced.map((key) => ({ kind: 'delete', key })));
  await store.set(LAYOUT_KEY, LAYOUT, KEEP_MS);
}
