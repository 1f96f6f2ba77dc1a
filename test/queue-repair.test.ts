// What is left when the process writing a chat dies, or a session's store TTL ran out while no node
// swept: a process killed in the middle of chats starting and being taken leaves every chat in its
// queue exactly while it waits (a change is one atomic write), and the sweep repairs a queue whose
// sessions vanished behind its back.

import { expect } from 'chai';
import { ChatDomain } from '../src/chat/chat-service.ts';
import { ExpirySweeper } from '../src/chat/expiry.ts';
import { queueSet, serviceWaitingSet } from '../src/chat/session-records.ts';
import type { ServiceOptions, ServiceSession } from '../src/chat/types.ts';
import { QueueRouter } from '../src/endpoints/queue-router.ts';
import { createLogger } from '../src/log.ts';
import { openStore } from '../src/store/open-store.ts';
import type { Store } from '../src/store/store.ts';
import {
  agentHeaders,
  dropPrefix,
  requireRedis,
  SHARED_REDIS_URL,
  startNode,
  uniquePrefix,
  type GatewayNode,
} from './helpers/redis-nodes.ts';
import { eventually } from './helpers/gateway.ts';

const log = createLogger('silent');

async function waitingIds(store: Store): Promise<string[]> {
  const ids: string[] = [];
  for await (const [, session] of store.entries<ServiceSession>('session:'))
    if (session.chat?.state === 'waiting') ids.push(session.chat.chatSessionId);
  return ids.sort();
}

describe('queues after a crash or a lost session', function () {
  this.timeout(60_000);

  it('a gateway killed while chats start and are taken leaves each queue holding exactly its waiting chats', async function () {
    await requireRedis(this);
    const prefix = uniquePrefix('killed');
    let node: GatewayNode | undefined = await startNode('killed', { STORE_URL: SHARED_REDIS_URL, STORE_PREFIX: prefix });
    const store = await openStore({ url: SHARED_REDIS_URL, prefix, log });
    try {
      const load = async (): Promise<void> => {
        for (;;) {
          const created = await node!.post('/genesys/1/service/request-chat').catch(() => undefined);
          if (created?.status !== 200) return;
          const started = await node!
            .post(`/genesys/1/service/${created.body._id as string}/ixn/chat`, { firstName: 'Ann' })
            .catch(() => undefined);
          if (started?.status !== 200) return;
          if (Math.random() < 0.5)
            await node!
              .post(`/agent/v1/chats/${started.body.chatSessionId as string}/accept`, {}, agentHeaders('alice'))
              .catch(() => undefined);
        }
      };
      const workers = Array.from({ length: 8 }, load);
      // Killed once chats are under way, in the middle of whatever it was writing.
      await eventually(async () => (await store.count(queueSet('gms_builtin'))) >= 20, 15_000, '20 chats waiting');
      node.process.kill('SIGKILL');
      await Promise.all(workers);
      const members = [...(await store.members(queueSet('gms_builtin')))].sort();
      // 20 were waiting when it was killed; each of the 8 workers may have had one accept in flight.
      expect(members.length).to.be.at.least(20 - workers.length);
      expect(members).to.deep.equal(await waitingIds(store));
    } finally {
      await node?.stop();
      node = undefined;
      await store.close();
      await dropPrefix(prefix);
    }
  });

  it('the sweep takes out of a queue the chats whose sessions vanished, and puts back a waiting chat missing from it', async () => {
    const store = await openStore({ url: 'memory://', prefix: 'repair', log });
    const service: ServiceOptions = {
      name: 'support',
      ttl: 60,
      endpoint: 'gms_builtin',
      enabled: true,
      maxMessageLength: 100,
      disconnectedStatus: 200,
    };
    const domain = new ChatDomain({
      store,
      services: () => service,
      router: new QueueRouter(store, () => ({ open: true })),
      listener: { chatUpdated: () => undefined },
      clock: Date,
    });
    const sweeper = new ExpirySweeper({
      store,
      clock: Date,
      sessions: domain,
      node: 'n',
      intervalMs: 1000,
      endpoints: () => ['gms_builtin'],
    });
    try {
      const start = async () => {
        const session = await domain.createSession(service, {});
        return {
          id: session.id,
          chatSessionId: (await domain.startChat(session.id, undefined, { userData: {} })).chat.chatSessionId,
        };
      };
      const [vanished, kept, missing] = [await start(), await start(), await start()];
      // A store TTL ran out with no node sweeping; a set member lost (as a store restored from an old backup would).
      await store.write([
        { kind: 'delete', key: `session:${vanished.id}` },
        { kind: 'delete', key: `chat:${vanished.chatSessionId}` },
        { kind: 'remove', set: queueSet('gms_builtin'), member: missing.chatSessionId },
      ]);
      expect(await store.count(queueSet('gms_builtin'))).to.equal(2);
      await sweeper.sweep();
      expect([...(await store.members(queueSet('gms_builtin')))].sort()).to.deep.equal(
        [kept.chatSessionId, missing.chatSessionId].sort(),
      );
      // The census's set of the service's waiting chats is repaired the same way.
      expect([...(await store.members(serviceWaitingSet('support')))].sort()).to.deep.equal(
        [kept.chatSessionId, missing.chatSessionId].sort(),
      );
    } finally {
      await store.close();
    }
  });
});
