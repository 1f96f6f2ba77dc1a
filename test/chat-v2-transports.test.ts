// Chat API v2 has two transports, the poll API and the CometD mode (`/service/chatV2/<service>`), over
// one set of operations (src/http/chat-v2-operations.ts): the same call answers the same way on both,
// refusals included (a too-long notice, a missing nickname, a pushUrl that is no web address, empty data).

import { expect } from 'chai';
import faye from 'faye';
import { startV2Chat } from './helpers/chat-v2-client.ts';
import { closeFayeClient } from './helpers/faye-client.ts';
import { eventually, startTestGateway, type TestGateway } from './helpers/gateway.ts';

type Client = InstanceType<typeof faye.Client>;
interface Answer {
  operation?: string;
  statusCode: number;
  chatId?: string;
  secureKey?: string;
  userId?: string;
  errors?: { code: number; advice: string }[];
  messages?: { type: string; text?: string }[];
}

describe('Chat API v2: the same operations over polling and over CometD', function () {
  this.timeout(30_000);
  let gw: TestGateway;
  let client: Client;
  const answers: Answer[] = [];

  before(async () => {
    gw = await startTestGateway({ services: { 'request-chat.json': { maxMessageLength: 20 } } });
    client = new faye.Client(`${gw.url}/genesys/cometd`, { timeout: 5 });
    await new Promise<void>((resolve, reject) => {
      client
        .subscribe('/service/chatV2/request-chat', (data) => answers.push(data as Answer))
        .then(
          () => resolve(),
          (err) => reject(new Error(String(err.message))),
        );
    });
  });
  after(async () => {
    if (client) await closeFayeClient(client);
    await gw?.close();
  });

  /** Publishes one operation and waits for its answer. */
  async function overCometd(data: Record<string, unknown>): Promise<Answer> {
    const seen = answers.length;
    await client.publish('/service/chatV2/request-chat', data);
    return await eventually(
      async () => answers.slice(seen).find((a) => a.operation === data.operation),
      10_000,
      `the answer to ${String(data.operation)}`,
    );
  }

  const CASES: [operation: string, path: string, params: Record<string, string>][] = [
    ['customNotice', 'customNotice', { message: 'x'.repeat(21) }],
    ['customNotice', 'customNotice', { message: 'page=checkout' }],
    ['updateNickname', 'updateNickname', { nickname: '' }],
    ['updateNickname', 'updateNickname', { nickname: 'n'.repeat(257) }],
    ['updateNickname', 'updateNickname', { nickname: 'Annie' }],
    ['pushUrl', 'pushUrl', { pushUrl: 'javascript:alert(1)' }],
    ['pushUrl', 'pushUrl', {}],
    ['pushUrl', 'pushUrl', { pushUrl: 'https://shop.example/cart' }],
    ['updateData', 'updateData', {}],
    ['updateData', 'updateData', { 'userData[plan]': 'gold' }],
    ['sendMessage', 'send', { message: 'y'.repeat(21) }],
    ['sendMessage', 'send', { message: 'Hello' }],
    ['startTyping', 'startTyping', {}],
    ['noSuchOperation', 'noSuchOperation', {}],
  ];

  it('each operation answers the same status and errors on both transports, and adds the same events', async () => {
    const polled = await startV2Chat(gw);
    const pushedStart = await overCometd({ operation: 'requestChat', nickname: 'Ann' });
    expect(pushedStart.statusCode).to.equal(0);
    const keys = { chatId: pushedStart.chatId!, secureKey: pushedStart.secureKey!, userId: pushedStart.userId! };
    for (const [operation, path, params] of CASES) {
      const poll = await polled.call(path, { ...params, transcriptPosition: '1' });
      const push = await overCometd({ operation, ...keys, ...params, transcriptPosition: '1' });
      const summary = (a: Answer) => ({ statusCode: a.statusCode, errors: a.errors, types: a.messages?.map((m) => m.type) });
      if (path === 'noSuchOperation') {
        // Not a route of the poll API (404 in v2's envelope); an unknown operation over CometD.
        expect(poll.status).to.equal(404);
        expect(push.statusCode).to.not.equal(0);
        continue;
      }
      expect(summary(push), `${operation} ${JSON.stringify(params).slice(0, 60)}`).to.deep.equal(summary(poll.body as Answer));
    }
  });
});
