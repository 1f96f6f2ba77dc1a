// Agents' CometD channels are scoped to the token presented: an agent id listed in two endpoint files
// under two tokens is two agents as far as pushes go, and a token revoked or rotated in the endpoint
// files ends its live subscriptions at once. Real endpoint files, real faye clients, a real gateway.

import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import faye from 'faye';
import type { AgentPushMessage } from '../src/endpoints/agent-push.ts';
import { hashToken } from '../src/endpoints/token-hash.ts';
import { closeFayeClient } from './helpers/faye-client.ts';
import { startCustomerChat } from './helpers/chat-client.ts';
import { eventually, startTestGateway, type TestGateway } from './helpers/gateway.ts';

interface Listener {
  client: InstanceType<typeof faye.Client>;
  received: (AgentPushMessage | { type: 'revoked' })[];
}

const agentsFile = (id: string, token: string): object => ({ agents: [{ id, nickname: 'Sam', token: hashToken(token) }] });

describe('CometD: agent channels follow the token presented', function () {
  let gw: TestGateway;
  const listeners: Listener[] = [];

  async function listen(channel: string, token: string): Promise<Listener> {
    const client = new faye.Client(`${gw.url}/genesys/cometd`, { timeout: 5 });
    client.disable('websocket');
    client.addExtension({
      outgoing(message, callback) {
        if (message.channel === '/meta/subscribe') message.ext = { ...message.ext, token };
        callback(message);
      },
    });
    const listener: Listener = { client, received: [] };
    listeners.push(listener);
    await new Promise<void>((resolve, reject) => {
      client
        .subscribe(channel, (data) => listener.received.push(data as AgentPushMessage))
        .then(
          () => resolve(),
          (err) => reject(new Error(err.message)),
        );
    });
    return listener;
  }

  const waitingChats = (l: Listener): string[] => l.received.flatMap((m) => (m.type === 'waiting' ? [m.chat.endpoint] : []));

  beforeEach(async () => {
    gw = await startTestGateway({
      services: { 'north-chat.json': { endpoint: 'north' }, 'south-chat.json': { endpoint: 'south' } },
      endpoints: { 'north.json': agentsFile('sam', 'token-north'), 'south.json': agentsFile('sam', 'token-south') },
    });
  });
  afterEach(async () => {
    await Promise.all(listeners.splice(0).map((l) => closeFayeClient(l.client)));
    await gw.close();
  });

  it('one agent id under two tokens in two endpoint files: each token hears only of its own endpoint', async () => {
    const north = await listen('/agent/sam', 'token-north');
    const south = await listen('/agent/sam', 'token-south');
    await startCustomerChat(gw, { service: 'south-chat' });
    await startCustomerChat(gw, { service: 'north-chat' });
    await eventually(() => waitingChats(north).length === 1 && waitingChats(south).length === 1, 3000, 'one waiting chat each');
    expect(waitingChats(north)).to.deep.equal(['north']);
    expect(waitingChats(south)).to.deep.equal(['south']);
  });

  it('a token rotated in its endpoint file ends its live subscription at once; the new token subscribes', async () => {
    const old = await listen('/agent/sam', 'token-north');
    await gw.writeEndpoint('north.json', agentsFile('sam', 'token-north-2'));
    await eventually(() => old.received.some((m) => m.type === 'revoked'), 3000, 'the subscription to end');

    const fresh = await listen('/agent/sam', 'token-north-2');
    await startCustomerChat(gw, { service: 'north-chat' });
    await eventually(() => waitingChats(fresh).length === 1, 3000, 'the waiting chat on the new token');
    expect(waitingChats(old)).to.deep.equal([]);
  });

  it('a token removed with its endpoint file ends its subscription, and the old token cannot subscribe again', async () => {
    const south = await listen('/agent/sam', 'token-south');
    await fs.unlink(path.join(gw.endpointsDir, 'south.json'));
    await eventually(() => south.received.some((m) => m.type === 'revoked'), 3000, 'the subscription to end');
    let refused = '';
    await listen('/agent/sam', 'token-south').catch((err: Error) => (refused = err.message));
    expect(refused).to.match(/Forbidden/);
  });
});
