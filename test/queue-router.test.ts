// An endpoint's waiting queue in the store: oldest first, each chat once, capped by maxWaiting, and
// readable when it was written by an earlier version of the gateway.

import { expect } from 'chai';
import { QueueRouter } from '../src/endpoints/queue-router.ts';
import { GatewayError } from '../src/errors.ts';
import { createLogger } from '../src/log.ts';
import { openStore } from '../src/store/open-store.ts';
import type { Store } from '../src/store/store.ts';

describe('the waiting queue of an endpoint', () => {
  let store: Store;
  let router: QueueRouter;
  const entry = (id: string) => ({ chatSessionId: id, serviceId: `service-of-${id}`, since: 0 });

  beforeEach(async () => {
    store = await openStore({ url: 'memory://', prefix: 'queue-test', log: createLogger('silent') });
    router = new QueueRouter(store, (name) => (name === 'small' ? { open: true, maxWaiting: 2 } : { open: true }));
  });
  afterEach(() => store.close());

  it('lists chats oldest first, each once, and drops the ones that leave', async () => {
    for (const id of ['A', 'B', 'C', 'B']) await router.enqueue('sales', entry(id));
    expect(await router.waiting('sales')).to.deep.equal(['A', 'C', 'B']);
    await router.dequeue('sales', 'C');
    await router.dequeue('sales', 'not-there');
    expect(await router.waiting('sales')).to.deep.equal(['A', 'B']);
    expect(await router.waiting('other')).to.deep.equal([]);
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

  it('reads a queue stored by an earlier version (whole entries) in its order, and keeps only ids from then on', async () => {
    await store.set('queue:sales', [entry('OLD1'), entry('OLD2')], 60_000);
    expect(await router.waiting('sales')).to.deep.equal(['OLD1', 'OLD2']);
    await router.enqueue('sales', entry('NEW'));
    await router.dequeue('sales', 'OLD1');
    expect(await store.get('queue:sales')).to.deep.equal(['OLD2', 'NEW']);
  });

  it('keeps thousands of waiting chats in order', async () => {
    const ids = Array.from({ length: 3000 }, (_, i) => `C${i}`);
    for (const id of ids) await router.enqueue('sales', entry(id));
    for (const id of ids.filter((_, i) => i % 3 === 0)) await router.dequeue('sales', id);
    expect(await router.waiting('sales')).to.deep.equal(ids.filter((_, i) => i % 3 !== 0));
  });
});
