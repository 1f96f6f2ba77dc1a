// The session store on Redis as two gateway nodes see it (two stores, two connections): updates of one
// key never interleave, and a writer whose lock ran out cannot overwrite the writer that came next.

import { expect } from 'chai';
import { createClient } from '@keyv/redis';
import { GatewayError } from '../src/errors.ts';
import { createLogger } from '../src/log.ts';
import { openStore } from '../src/store/open-store.ts';
import type { Store } from '../src/store/store.ts';
import { dropPrefix, requireRedis, SHARED_REDIS_URL, uniquePrefix } from './helpers/redis-nodes.ts';

describe('the session store on Redis, shared by two nodes', function () {
  this.timeout(20_000);
  const prefix = uniquePrefix('lock');
  const log = createLogger('silent');
  let nodeA: Store | undefined;
  let nodeB: Store | undefined;

  before(async function () {
    await requireRedis(this);
    [nodeA, nodeB] = await Promise.all([
      openStore({ url: SHARED_REDIS_URL, prefix, log }),
      openStore({ url: SHARED_REDIS_URL, prefix, log }),
    ]);
  });

  after(async () => {
    await Promise.all([nodeA?.close(), nodeB?.close()]);
    if (nodeA) await dropPrefix(prefix);
  });

  it('applies 300 concurrent read-modify-writes of one key from two nodes, none lost', async () => {
    const increment = (store: Store): Promise<number> =>
      store.update<number, number>('counter', (n = 0) => ({ write: n + 1, ttlMs: 60_000, result: n + 1 }));
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => increment(i % 2 ? nodeA! : nodeB!)));
    expect([...results].sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(await nodeA!.get('counter')).to.equal(300);
  });

  it('refuses the write of a node whose lock ran out, keeping what the next holder wrote', async () => {
    const redis = createClient({ url: SHARED_REDIS_URL });
    await redis.connect();
    try {
      await nodeA!.set('chat', ['hello'], 60_000);
      const late = nodeA!.update<string[], void>('chat', async (events = []) => {
        // Node A stalls past its lease (the lock key expires), and node B takes its turn meanwhile.
        await redis.del(`${prefix}:lock:chat`);
        await nodeB!.update<string[], void>('chat', (current = []) => ({
          write: [...current, 'from B'],
          ttlMs: 60_000,
          result: undefined,
        }));
        return { write: [...events, 'from A'], ttlMs: 60_000, result: undefined };
      });
      const refused = await late.then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).to.be.instanceOf(GatewayError);
      expect((refused as GatewayError).exception).to.equal('ServiceUnavailable');
      expect(await nodeB!.get('chat')).to.deep.equal(['hello', 'from B']);
      // Redis's own TTL still applies to what was written under the lock.
      expect(await redis.pTTL(`${prefix}::chat`)).to.be.within(1, 60_000);
    } finally {
      redis.destroy();
    }
  });
});
