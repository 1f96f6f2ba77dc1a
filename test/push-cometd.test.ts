// Push notifications and CometD customers: an app connected over CometD (faye's Node client, as a
// foreground app) gets its events pushed there and no notification; once it tells of its background
// state (/meta/disconnect with its transcript position, as GMS apps do), the agent's next message is a
// notification.

import { expect } from 'chai';
import faye, { type BayeuxMessage } from 'faye';
import fs from 'node:fs/promises';
import path from 'node:path';
import { agentClient, endpointFile } from './helpers/agent-client.ts';
import { startCustomerChat } from './helpers/chat-client.ts';
import { closeFayeClient } from './helpers/faye-client.ts';
import { eventually, makeTempDir, startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { startReceiver, type PushReceiver } from './helpers/push-receiver.ts';
import { sessionKey } from '../src/chat/session-records.ts';
import type { ServiceSession } from '../src/chat/types.ts';

describe('push notifications and CometD customers', function () {
  this.timeout(20_000);
  let receiver: PushReceiver;
  let gw: TestGateway;
  beforeEach(async () => {
    receiver = await startReceiver();
    const pushDir = path.join(await makeTempDir('gms-push-cometd-'), 'push.d');
    await fs.mkdir(pushDir);
    await fs.writeFile(path.join(pushDir, '..', 'key'), 'the-cometd-tests-signing-key');
    await fs.writeFile(
      path.join(pushDir, 'relay.json'),
      JSON.stringify({ kind: 'http-callback', url: receiver.url, secretFile: '../key' }),
    );
    gw = await startTestGateway({
      endpoints: { 'gms_builtin.json': endpointFile(['alice']) },
      env: { PUSH_DIR: pushDir, PUSH_AWAY_MS: '0', PUSH_COALESCE_MS: '0', PUSH_DRAIN_INTERVAL_MS: '20' },
    });
  });
  afterEach(async () => {
    await gw.close();
    await receiver.close();
  });

  it('a connected app gets pushes over CometD and no notification; in the background it gets one', async () => {
    const client = new faye.Client(`${gw.url}/genesys/cometd`);
    client.disable('websocket');
    client.setHeader('gms_user', 'ann');
    let clientId = '';
    client.addExtension({
      incoming(message: BayeuxMessage, callback: (m: BayeuxMessage) => void) {
        if (message.channel === '/meta/handshake' && message.clientId) clientId = message.clientId;
        callback(message);
      },
    });
    const pushed: unknown[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        void client
          .subscribe('/_genesys', (data) => pushed.push(data))
          .then(
            () => resolve(),
            () => reject(new Error('subscribe refused')),
          );
      });
      const chat = await startCustomerChat(gw, {
        headers: { gms_user: 'ann' },
        start: { notify_by: 'comet', push_notification_deviceid: 'ann-phone', push_notification_type: 'customhttp' },
      });
      const chatId = chat.start.body.chatSessionId as string;
      const alice = agentClient(gw, 'alice');
      await alice.post(`/chats/${chatId}/accept`);
      await alice.post(`/chats/${chatId}/send`, { message: 'in the foreground' });
      await eventually(() => pushed.length >= 3, 5000, 'the pushes over CometD');
      const push = async (): Promise<ServiceSession['chat']> => (await gw.store.get<ServiceSession>(sessionKey(chat.id)))!.chat;
      expect((await push())!.push!.pending).to.equal(undefined);
      await gw.pushDrainer.idle();
      expect(receiver.received).to.have.length(0);

      // To the background, having seen everything: the app's connection goes (suspended), and GMS's
      // /meta/disconnect with the position names the customer by gms_user, whatever became of its client.
      await closeFayeClient(client);
      const res = await fetch(`${gw.url}/genesys/cometd`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', gms_user: 'ann' },
        body: JSON.stringify([{ channel: '/meta/disconnect', clientId, ext: { transcriptPosition: '3' } }]),
      });
      expect(res.status).to.equal(200);
      await alice.post(`/chats/${chatId}/send`, { message: 'in the background' });
      await eventually(() => receiver.received.length === 1, 5000, 'the notification');
      expect(receiver.received[0].body.lastTranscript.map((row: string[]) => row[2])).to.deep.equal(['in the background']);
    } finally {
      await closeFayeClient(client);
    }
  });
});
