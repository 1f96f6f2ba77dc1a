// What an agent console does: it is told of a new waiting chat on its CometD channel and lists the queue
// at once. The chat must be in that list every time: a chat is announced only once it can be listed.
// Real gateway on the SQLite file, real Bayeux client, many chats started at once.

import path from 'node:path';
import { expect } from 'chai';
import faye from 'faye';
import type { AgentPushMessage } from '../src/endpoints/agent-push.ts';
import { closeFayeClient } from './helpers/faye-client.ts';
import { agentClient, endpointFile, tokenOf } from './helpers/agent-client.ts';
import { startCustomerChat } from './helpers/chat-client.ts';
import { eventually, makeTempDir, startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { dropPrefix, requireRedis, SHARED_REDIS_URL, uniquePrefix } from './helpers/redis-nodes.ts';

const CHATS = 60;

describe('an agent console listing the queue when told of a new chat', function () {
  this.timeout(30_000);
  let gw: TestGateway;
  let client: InstanceType<typeof faye.Client> | undefined;

  let prefix: string | undefined;
  const stores: Record<string, (ctx: Mocha.Context) => Promise<Record<string, string>>> = {
    sqlite: async () => ({ STORE_URL: `sqlite://${path.join(await makeTempDir('gms-console-'), 'sessions.sqlite')}` }),
    memory: async () => ({}),
    redis: async (ctx) => {
      await requireRedis(ctx);
      prefix = uniquePrefix('console');
      return { STORE_URL: SHARED_REDIS_URL, STORE_PREFIX: prefix };
    },
  };

  for (const [store, envOf] of Object.entries(stores)) {
    it(`finds each of ${CHATS} chats started together in the list it reads right after the push (${store} store)`, async function () {
      const env = await envOf(this);
      gw = await startTestGateway({ endpoints: { 'gms_builtin.json': endpointFile(['alice']) }, env });
      const alice = agentClient(gw, 'alice');
      client = new faye.Client(`${gw.url}/genesys/cometd`, { timeout: 5 });
      client.addExtension({
        outgoing(message, callback) {
          if (message.channel === '/meta/handshake') message.ext = { ...message.ext, token: tokenOf('alice') };
          callback(message);
        },
      });
      const missing: string[] = [];
      const listed: Promise<void>[] = [];
      await new Promise<void>((resolve, reject) => {
        client!
          .subscribe('/agent/alice', (data) => {
            const message = data as AgentPushMessage;
            if (message.type !== 'waiting') return;
            listed.push(
              alice.get('/chats').then((reply) => {
                const ids = (reply.body.chats as { chatSessionId: string }[]).map((c) => c.chatSessionId);
                if (!ids.includes(message.chat.chatSessionId)) missing.push(message.chat.chatSessionId);
              }),
            );
          })
          .then(
            () => resolve(),
            (err: { message?: string }) => reject(new Error(err.message)),
          );
      });
      await Promise.all(Array.from({ length: CHATS }, () => startCustomerChat(gw)));
      await eventually(() => listed.length === CHATS, 10_000, 'every chat to be announced');
      await Promise.all(listed);
      expect(missing).to.deep.equal([]);
    });
  }

  afterEach(async () => {
    if (client) await closeFayeClient(client);
    await gw?.close();
    if (prefix) await dropPrefix(prefix);
    prefix = undefined;
  });
});
