// The layout this version reads and writes sessions in (session-records.ts), marked in the store itself.
// A new store is marked at its first start. A store marked with another layout, or holding sessions
// without a mark, was written by a development build (no release wrote another layout): it is refused,
// not converted.

import type { Store } from '../store/store.ts';

const LAYOUT_KEY = 'store-layout';
const LAYOUT = 6;
const KEEP_MS = 100 * 365 * 24 * 3600 * 1000;

/** Marks a new store with this version's layout; throws for a store written in another one. */
export async function checkStoreLayout(store: Store): Promise<void> {
  const layout = await store.get<number>(LAYOUT_KEY);
  if (layout === LAYOUT) return;
  if (layout !== undefined || (await holdsSessions(store))) {
    throw new Error(
      `this store was written by a development build (store layout ${layout ?? 'unmarked'}; this version reads layout ${LAYOUT}); delete it`,
    );
  }
  await store.set(LAYOUT_KEY, LAYOUT, KEEP_MS);
}

async function holdsSessions(store: Store): Promise<boolean> {
  for await (const entry of store.entries('session:')) if (entry) return true;
  return false;
}
