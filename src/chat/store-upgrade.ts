// Brings a store written by an earlier version to this version's layout, once, at start-up. Layout 1:
// queues, agents' lists and comet index were records of their own, written after the session; layout 2
// had them as sets written with it but no expiry index nor census sets; layout 3 adds those; layout 4
// the sets of chats whose customer is gone; layout 5 each endpoint's connected chats (session-records.ts);
// layout 6 each session's members kept with its record (the embedded store: embedded-sqlite.ts). Each
// stored session adds its places under its own lock, so chats changing meanwhile are indexed as they are
// now (and sessions already due are then found by the sweep); the old records are then removed.

import type { Store } from '../store/store.ts';

const LAYOUT_KEY = 'store-layout';
const LAYOUT = 6;
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
