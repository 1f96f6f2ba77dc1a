// An endpoint's waiting queue in the store: oldest first, each chat once, capped by maxWaiting, readable
// when it was written by an earlier version of the gateway, and as cheap to change with thousands waiting
// as with a few.

import { expect } from 'chai';
import { QUEUE_CHUNK, QUEUE_SHARDS, QueueRouter } from '../src/endpoints/queue-router.ts';
import { GatewayError } from '../src/errors.ts';
import { createLogger } from '../src/log.ts';
import { openStore } from '../src/store/open-store.ts';
import type { Store } from '../src/store/store.ts';

describe('the waiting queue of an endpoint', () => {
  let store: Store;
  let router: QueueRouter;
  const entry = (id: string, since = 0) => ({ chatSessionId: id, serviceId: `service-of-${id}`, since });

  beforeEach(async () => {
    store = await openStore({ url: 'memory://', prefix: 'queue-test', log: createLogger('silent') });
    router = new QueueRouter(store, (name) => (name === 'small' ? { open: true, maxWaiting: 2 } : { open: true }));
  });
  afterEach(() => store.close());

  const sorted = (ids: string[]): string[] => [...ids].sort();

  it('lists each waiting chat once, and drops the ones that leave', async () => {
    for (const id of ['A', 'B', 'C', 'B']) await router.enqueue('sales', entry(id));
    expect(sorted(await router.waiting('sales'))).to.deep.equal(['A', 'B', 'C']);
    await router.dequeue('sales', 'C');
    await router.dequeue('sales', 'not-there');
    expect(sorted(await router.waiting('sales'))).to.deep.equal(['A', 'B']);
    expect(await router.waiting('other')).to.deep.equal([]);
    // A queue that empties leaves nothing in the store.
    await router.dequeue('sales', 'A');
    await router.dequeue('sales', 'B');
    const left: string[] = [];
    for await (const [key] of store.entries('')) left.push(key);
    expect(left).to.deep.equal([]);
  });

  it('refuses a chat once maxWaiting chats wait, and takes one again when a place frees up', async () => {
    await router.admit('small');
    await router.enqueue('small', entry('A'));
    await router.enqueue('small', entry('B'));
    const refused = await router.admit('small').then(() => undefined, (err: unknown) => err);
    expect(refused).to.be.instanceOf(GatewayError);
    expect((refused as GatewayError).exception).to.equal('ServiceUnavailable');
    await router.dequeue('small', 'A');
    await router.admit('small');
  });

  it('reads a queue stored by an earlier version (whole entries or ids), and goes on from it', async () => {
    await store.set('queue:sales', [entry('OLD1'), entry('OLD2')], 60_000);
    expect(await router.waiting('sales')).to.deep.equal(['OLD1', 'OLD2']);
    await router.enqueue('sales', entry('NEW'));
    await router.dequeue('sales', 'OLD1');
    expect(sorted(await router.waiting('sales'))).to.deep.equal(['NEW', 'OLD2']);

    // A long one is sealed into chunks at the next chat queued; its chats are still found when they leave.
    const old = Array.from({ length: 2 * QUEUE_CHUNK + 5 }, (_, i) => `L${i}`);
    await store.set('queue:long', old, 60_000);
    expect(await router.count('long')).to.equal(old.length);
    await router.enqueue('long', entry('NEW', 5000));
    await router.dequeue('long', 'L3', 1234);
    await router.dequeue('long', `L${old.length - 1}`);
    expect(sorted(await router.waiting('long'))).to.deep.equal(sorted([...old.filter((id) => id !== 'L3').slice(0, -1), 'NEW']));
  });

  it('with thousands waiting, a chat joining or leaving rewrites a record of a few kB, not the whole queue', async () => {
    const ids = Array.from({ length: 3000 }, (_, i) => `CHAT${String(i).padStart(12, '0')}`);
    for (const [i, id] of ids.entries()) await router.enqueue('sales', entry(id, 1000 + i));
    const records: unknown[] = [];
    for await (const [key, value] of store.entries('')) if (/queue:sales(#\d+)?$/.test(key)) records.push(value);
    // Chats spread over the shards; each shard's record holds a reference per chunk of QUEUE_CHUNK chats
    // and fewer than QUEUE_CHUNK ids of its own.
    expect(records).to.have.length(QUEUE_SHARDS);
    for (const record of records) expect(JSON.stringify(record).length).to.be.below(3000);
    expect(await router.count('sales')).to.equal(3000);
    // Chats leave from the front, the middle and the back, found by the time they were queued.
    const leaving = [0, 1, 1500, 2047, 2999];
    for (const i of leaving) await router.dequeue('sales', ids[i]!, 1000 + i);
    const left = ids.filter((_, i) => !leaving.includes(i));
    expect(sorted(await router.waiting('sales'))).to.deep.equal(left);
    expect(await router.count('sales')).to.equal(left.length);
    // A chunk that lost a chat was written anew and the old one removed: no chunk is left that a record does not name.
    const named = new Set<string>();
    const chunks: string[] = [];
    for await (const [key, value] of store.entries<{ chunks?: { id: string }[] }>('')) {
      if (/queue:sales(#\d+)?$/.test(key)) for (const ref of value.chunks ?? []) named.add(`${key}:${ref.id}`);
      else if (key.includes('queue:sales')) chunks.push(key);
    }
    expect(chunks.sort()).to.deep.equal([...named].sort());
  });

  it('keeps thousands of waiting chats, each once, and oldest first within a shard', async () => {
    const ids = Array.from({ length: 3000 }, (_, i) => `C${i}`);
    for (const id of ids) await router.enqueue('sales', entry(id));
    for (const id of ids.filter((_, i) => i % 3 === 0)) await router.dequeue('sales', id);
    const waiting = await router.waiting('sales');
    expect(sorted(waiting)).to.deep.equal(sorted(ids.filter((_, i) => i % 3 !== 0)));
    // Within the listing, the chats of one shard keep the order they came in.
    const order = new Map(ids.map((id, i) => [id, i]));
    const runs = waiting.filter((id, i) => i > 0 && order.get(id)! < order.get(waiting[i - 1]!)!);
    expect(runs.length).to.be.below(QUEUE_SHARDS);
  });
});
