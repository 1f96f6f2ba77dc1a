// Async delivery over CometD (spec §4), with real Bayeux clients against a real gateway: faye's Node
// client and the official CometD JavaScript client, on long-polling and websocket.

import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { adapt } from 'cometd-nodejs-client';
import { CometD, type Message, type SubscriptionHandle } from 'cometd';
import faye, { type BayeuxMessage, type Client as FayeClient, type Thenable } from 'faye';
import type { Agent, AgentDirectory } from '../src/endpoints/agents.ts';
import { createLogger } from '../src/log.ts';
import { attachCometd, type CometdEndpoint } from '../src/push/cometd.ts';
import type { ChatPush } from '../src/push/customer-push.ts';
import { closeFayeClient, closeFayeClients } from './helpers/faye-client.ts';
import { startCustomerChat, type CustomerChat } from './helpers/chat-client.ts';
import { eventually, makeTempDir, startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { dropPrefix, requireRedis, SHARED_REDIS_URL, uniquePrefix } from './helpers/redis-nodes.ts';

adapt();

const AGENT = { id: 'a1', nickname: 'Bob' };

/** What a customer's app sees of its CometD connection. */
interface Customer {
  pushes: ChatPush[];
  subscribe(): Promise<void>;
  close(): Promise<void>;
}

function fayeCustomer(
  gw: TestGateway,
  gmsUser: string | undefined,
  transport: 'long-polling' | 'websocket',
): Customer & { client: FayeClient; clientId(): string; raw: BayeuxMessage[] } {
  const client = new faye.Client(`${gw.url}/genesys/cometd`);
  let clientId = '';
  // Every data message as it came off the wire, before faye's client hands on its data.
  const raw: BayeuxMessage[] = [];
  client.addExtension({
    incoming(message: BayeuxMessage, callback: (m: BayeuxMessage) => void) {
      if (message.channel === '/meta/handshake' && message.clientId) clientId = message.clientId;
      if (!message.channel.startsWith('/meta/')) raw.push(structuredClone(message));
      callback(message);
    },
  });
  if (gmsUser !== undefined) client.setHeader('gms_user', gmsUser);
  // faye handshakes over HTTP, then moves to a websocket unless told not to.
  if (transport === 'long-polling') client.disable('websocket');
  const pushes: ChatPush[] = [];
  return {
    client,
    clientId: () => clientId,
    raw,
    pushes,
    subscribe: () => toPromise(client.subscribe('/_genesys', (data) => pushes.push(data as ChatPush))),
    close: () => closeFayeClient(client),
  };
}

function cometdCustomer(
  gw: TestGateway,
  gmsUser: string,
  transport: 'long-polling' | 'websocket',
): Customer & { cometd: CometD; raw: Message[]; leave(position: string): Promise<Message>; unsubscribe(): Promise<Message> } {
  const cometd = new CometD();
  if (transport === 'long-polling') cometd.unregisterTransport('websocket');
  // Browser websockets cannot set headers: the websocket customer names itself in the handshake's ext.
  cometd.configure({
    url: `${gw.url}/genesys/cometd`,
    ...(transport === 'long-polling' ? { requestHeaders: { gms_user: gmsUser } } : {}),
  });
  const pushes: ChatPush[] = [];
  let handle: SubscriptionHandle | undefined;
  // Every data message off the wire, before the client drops those it has no subscription for.
  const raw: Message[] = [];
  cometd.registerExtension('raw', {
    incoming(message) {
      if (!message.channel.startsWith('/meta/')) raw.push(message);
      return message;
    },
  });
  const handshake = (): Promise<Message> =>
    new Promise((resolve, reject) =>
      cometd.handshake(transport === 'websocket' ? { ext: { gms_user: gmsUser } } : {}, (m) =>
        m.successful ? resolve(m) : reject(new Error(JSON.stringify(m))),
      ),
    );
  return {
    cometd,
    raw,
    pushes,
    async subscribe() {
      await handshake();
      await new Promise<void>((resolve, reject) => {
        handle = cometd.subscribe(
          '/_genesys',
          (m) => pushes.push(m.data as ChatPush),
          (m) => (m.successful ? resolve() : reject(new Error(m.error))),
        );
      });
    },
    unsubscribe: () => new Promise((resolve) => cometd.unsubscribe(handle!, resolve)),
    leave: (position) => new Promise((resolve) => cometd.disconnect({ ext: { transcriptPosition: position } }, resolve)),
    close: () => new Promise((resolve) => (cometd.isDisconnected() ? resolve() : cometd.disconnect(() => resolve()))),
  };
}

function toPromise(thenable: Thenable): Promise<void> {
  return new Promise(
    (resolve, reject) =>
      void thenable.then(
        () => resolve(),
        (err) => reject(new Error(err?.message ?? 'refused')),
      ),
  );
}

async function refused(thenable: Thenable): Promise<string> {
  try {
    await toPromise(thenable);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the server to refuse');
}

function cometChat(gw: TestGateway, gmsUser: string, firstName = 'Ann'): Promise<CustomerChat> {
  return startCustomerChat(gw, { headers: { gms_user: gmsUser }, start: { notify_by: 'comet', userDisplayName: firstName } });
}

/** The events of every push, in the order received, as [position, type, nickname, text]. */
function received(pushes: ChatPush[]): [number, string, string, string][] {
  return pushes.flatMap((p) => {
    const last = Number(p.message.transcriptPosition);
    const first = last - p.message.transcriptToShow.length + 1;
    return p.message.transcriptToShow.map(([type, nickname, text], i): [number, string, string, string] => [
      first + i,
      type,
      nickname,
      text,
    ]);
  });
}

const positions = (pushes: ChatPush[]): number[] => received(pushes).map(([p]) => p);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('CometD: chat events pushed to the customer', function () {
  let gw: TestGateway;
  const open: Customer[] = [];
  const customer = <C extends Customer>(c: C): C => (open.push(c), c);

  beforeEach(async () => {
    gw = await startTestGateway();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await gw.close();
  });

  for (const [client, transport] of [
    ['faye', 'long-polling'],
    ['faye', 'websocket'],
    ['CometD', 'long-polling'],
    ['CometD', 'websocket'],
  ] as const) {
    it(`a ${client} client on ${transport} receives every event of its chat, in order, once, as the agent produces them`, async () => {
      const ann = customer(client === 'faye' ? fayeCustomer(gw, 'ann', transport) : cometdCustomer(gw, 'ann', transport));
      await ann.subscribe();
      const chat = await cometChat(gw, 'ann');
      const chatId = chat.start.body.chatSessionId as string;

      await gw.domain.accept(chatId, AGENT);
      await gw.domain.agentCommand(chatId, { kind: 'agentSend', agentId: AGENT.id, text: 'Hello Ann, how can I help?' });
      await eventually(() => ann.pushes.length >= 3, 3000, 'three pushes');

      const [joined, agentJoined, hello] = ann.pushes;
      expect(joined.tag).to.equal(`service.chat.refresh.1-${chat.id}`);
      expect(agentJoined.tag).to.equal(`service.chat.refresh.2-${chat.id}`);
      expect(hello).to.deep.include({ tag: `service.chat.refresh.3-${chat.id}` });
      expect(hello).to.have.all.keys('id', 'tag', 'message');
      expect(hello.message).to.have.all.keys(
        'chatIxnState',
        'chatSessionId',
        'transcriptPosition',
        'chatServiceMessage',
        'startedAt',
        'transcriptToShow',
      );
      expect(hello.message).to.deep.include({
        chatIxnState: 'TRANSCRIPT',
        chatSessionId: chatId,
        transcriptPosition: '3',
        chatServiceMessage: 'Chat service is available',
        startedAt: chat.start.body.startedAt,
      });
      // Seconds since the start: 0, or 1 on a machine slow enough to cross a second meanwhile.
      const [event] = hello.message.transcriptToShow as string[][];
      expect([...event.slice(0, 3), event[4]]).to.deep.equal(['Message.Text', 'Bob', 'Hello Ann, how can I help?', 'AGENT']);
      expect(event[3]).to.be.oneOf(['0', '1']);
      expect(new Set(ann.pushes.map((p) => p.id)).size).to.equal(3);

      await gw.domain.leave(chatId, AGENT.id);
      await eventually(() => ann.pushes.length === 4, 3000, 'the last push');
      expect(ann.pushes[3].message.chatIxnState).to.equal('DISCONNECTED');
      expect(received(ann.pushes)).to.deep.equal([
        [1, 'Notice.Joined', 'Ann', 'has joined the session'],
        [2, 'Notice.Joined', 'Bob', 'has joined the session'],
        [3, 'Message.Text', 'Bob', 'Hello Ann, how can I help?'],
        [4, 'Notice.Left', 'Bob', 'has left the session'],
      ]);
    });
  }

  it("a customer's own messages sent through the Chat API come back on /_genesys too", async () => {
    const ann = customer(fayeCustomer(gw, 'ann', 'long-polling'));
    await ann.subscribe();
    const chat = await cometChat(gw, 'ann');
    expect((await chat.call('send', { message: 'Hi there' })).status).to.equal(200);
    await eventually(() => ann.pushes.length === 2, 3000, 'two pushes');
    expect(received(ann.pushes)[1]).to.deep.equal([2, 'Message.Text', 'Ann', 'Hi there']);
  });

  it('two customers chatting at once each receive only their own chat', async () => {
    const ann = customer(fayeCustomer(gw, 'ann', 'websocket'));
    const cid = customer(cometdCustomer(gw, 'cid', 'long-polling'));
    await Promise.all([ann.subscribe(), cid.subscribe()]);
    const [annChat, cidChat] = await Promise.all([cometChat(gw, 'ann', 'Ann'), cometChat(gw, 'cid', 'Cid')]);
    const chats = [annChat.start.body.chatSessionId as string, cidChat.start.body.chatSessionId as string];
    await Promise.all(chats.map((id) => gw.domain.accept(id, AGENT)));
    for (let i = 1; i <= 5; i++) {
      await Promise.all(
        chats.map((id, who) =>
          gw.domain.agentCommand(id, { kind: 'agentSend', agentId: AGENT.id, text: `to ${who === 0 ? 'Ann' : 'Cid'} #${i}` }),
        ),
      );
    }
    await eventually(() => ann.pushes.length === 7 && cid.pushes.length === 7, 3000, 'seven pushes each');

    expect(ann.pushes.every((p) => p.tag.endsWith(annChat.id) && p.message.chatSessionId === chats[0])).to.equal(true);
    expect(cid.pushes.every((p) => p.tag.endsWith(cidChat.id) && p.message.chatSessionId === chats[1])).to.equal(true);
    expect(
      received(ann.pushes)
        .filter(([, type]) => type === 'Message.Text')
        .map(([, , , text]) => text),
    ).to.deep.equal(range(1, 5).map((i) => `to Ann #${i}`));
    expect(positions(cid.pushes)).to.deep.equal(range(1, 7));
  });

  it('every CometD client of the customer gets the pushes, until it unsubscribes', async () => {
    const phone = customer(fayeCustomer(gw, 'ann', 'long-polling'));
    const laptop = customer(cometdCustomer(gw, 'ann', 'websocket'));
    await Promise.all([phone.subscribe(), laptop.subscribe()]);
    const chat = await cometChat(gw, 'ann');
    await eventually(() => phone.pushes.length === 1 && laptop.pushes.length === 1, 3000, 'the first push on both');

    expect((await laptop.unsubscribe()).successful).to.equal(true);
    await chat.call('send', { message: 'only the phone hears this' });
    await eventually(() => phone.pushes.length === 2, 3000, 'the push on the phone');
    expect(laptop.raw).to.have.length(1);
  });

  it('a chat with no CometD client connected still records everything, for a later refresh', async () => {
    const chat = await cometChat(gw, 'ann');
    const chatId = chat.start.body.chatSessionId as string;
    await gw.domain.accept(chatId, AGENT);
    await gw.domain.agentCommand(chatId, { kind: 'agentSend', agentId: AGENT.id, text: 'Anyone there?' });
    const reply = await chat.call('refresh', { transcriptPosition: '1' });
    expect(reply.body.transcriptToShow.map((e: string[]) => e[2])).to.deep.equal(['has joined the session', 'Anyone there?']);
  });

  it('a chat that expires is pushed to its customer as DISCONNECTED, with the customer leaving', async () => {
    await gw.close();
    gw = await startTestGateway({ services: { 'brief.json': { ttl: 1 } }, env: { SWEEP_INTERVAL_MS: '50' } });
    const ann = customer(fayeCustomer(gw, 'ann', 'long-polling'));
    await ann.subscribe();
    const chat = await startCustomerChat(gw, {
      service: 'brief',
      headers: { gms_user: 'ann' },
      start: { notify_by: 'comet', userDisplayName: 'Ann' },
    });
    const last = await eventually(
      () => ann.pushes.find((p) => p.message.chatIxnState === 'DISCONNECTED'),
      4000,
      'the chat to expire',
    );
    expect(last.tag).to.equal(`service.chat.refresh.2-${chat.id}`);
    expect(received([last])).to.deep.equal([[2, 'Notice.Left', 'Ann', 'has left the session']]);
    expect((await chat.call('refresh')).body.exception).to.equal('SessionNotFound');
  });

  it('notify_by=comet without a gms_user is refused with 400 InvalidParameter', async () => {
    const created = await gw.post('/genesys/1/service/request-chat', {});
    const reply = await gw.post(`/genesys/1/service/${created.body._id}/ixn/chat`, { notify_by: 'comet' });
    expect(reply.status).to.equal(400);
    expect(reply.body.exception).to.equal('InvalidParameter');
  });
});

describe('CometD: a customer in the background loses nothing', function () {
  let gw: TestGateway;
  const open: Customer[] = [];
  const customer = <C extends Customer>(c: C): C => (open.push(c), c);

  beforeEach(async () => {
    // On the embedded SQLite store (the default outside tests) store calls wait for real I/O, so a
    // return and the agent's messages interleave as they do in production.
    const dir = await makeTempDir();
    gw = await startTestGateway({ env: { STORE_URL: `sqlite://${path.join(dir, 'sessions.sqlite')}` } });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await gw.close();
  });

  async function chatUnderWay(): Promise<{ chat: CustomerChat; chatId: string; say: (text: string) => Promise<unknown> }> {
    const chat = await cometChat(gw, 'ann');
    const chatId = chat.start.body.chatSessionId as string;
    await gw.domain.accept(chatId, AGENT);
    return { chat, chatId, say: (text) => gw.domain.agentCommand(chatId, { kind: 'agentSend', agentId: AGENT.id, text }) };
  }

  it('a new handshake after /meta/disconnect with a position gets every event after it, then the live ones', async () => {
    const leaving = customer(cometdCustomer(gw, 'ann', 'long-polling'));
    await leaving.subscribe();
    const { say } = await chatUnderWay();
    await say('one');
    await eventually(() => leaving.pushes.length === 3, 3000, 'three pushes');
    // The app saw up to 2 only (the last push was lost on the way), then went to the background.
    expect((await leaving.leave('2')).successful).to.equal(true);

    await say('two');
    await say('three');
    const back = customer(cometdCustomer(gw, 'ann', 'websocket'));
    await back.subscribe();
    await eventually(() => positions(back.pushes).length >= 3, 3000, 'the missed events');
    await say('four');
    await eventually(() => positions(back.pushes).includes(6), 3000, 'the live event');

    expect(received(back.pushes).map(([p, , , text]) => [p, text])).to.deep.equal([
      [3, 'one'],
      [4, 'two'],
      [5, 'three'],
      [6, 'four'],
    ]);
    expect(leaving.pushes).to.have.length(3);
  });

  it('events produced while the customer is returning are delivered once, in order', async () => {
    const leaving = customer(cometdCustomer(gw, 'ann', 'long-polling'));
    await leaving.subscribe();
    const { say } = await chatUnderWay();
    await leaving.leave('1');

    // faye this time: the customer's app may use either client.
    const back = customer(fayeCustomer(gw, 'ann', 'long-polling'));
    // The agent keeps talking, from three places at once, until well after the customer is back.
    let said = 0;
    let returned = false;
    const talking = Promise.all(
      range(1, 3).map(async () => {
        for (let extra = 0; (!returned || extra < 5) && said < 500; extra += returned ? 1 : 0) {
          await say(`m${++said}`);
          // Let the customer's requests in between (the memory store never waits for I/O).
          await new Promise((resolve) => setImmediate(resolve));
        }
      }),
    );
    await back.subscribe();
    returned = true;
    await talking;
    const last = said + 2;
    await eventually(() => positions(back.pushes).includes(last), 3000, 'every message');
    // Whether each message was committed before, during or after the return, it arrives once, in order.
    expect(positions(back.pushes)).to.deep.equal(range(2, last));
  });

  it('a plain refresh after /meta/disconnect returns every event after the away position', async () => {
    const ann = customer(cometdCustomer(gw, 'ann', 'long-polling'));
    await ann.subscribe();
    const { say, chat } = await chatUnderWay();
    await eventually(() => ann.pushes.length === 2, 3000, 'two pushes');
    await ann.leave('2');
    await say('while you were away');
    await gw.domain.leave(chat.start.body.chatSessionId as string, AGENT.id);

    const reply = await chat.call('refresh');
    expect(reply.status).to.equal(200);
    expect(reply.body.chatIxnState).to.equal('DISCONNECTED');
    expect(reply.body.transcriptToShow.map((e: string[]) => e[2])).to.deep.equal(['while you were away', 'has left the session']);
  });
});

describe('CometD: background and return as GMS apps do it (the bank web client, GMS "Chat Push Notification")', function () {
  let gw: TestGateway;

  beforeEach(async () => {
    const dir = await makeTempDir();
    gw = await startTestGateway({ env: { STORE_URL: `sqlite://${path.join(dir, 'sessions.sqlite')}` } });
  });
  afterEach(() => gw.close());

  /** The app's Bayeux requests as its long-polling transport sends them: JSON POSTs with the gms_user header. */
  const bayeux = async (messages: object[]): Promise<BayeuxMessage[]> => {
    const res = await fetch(`${gw.url}/genesys/cometd`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', gms_user: 'ann' },
      body: JSON.stringify(messages),
    });
    return (await res.json()) as BayeuxMessage[];
  };

  /** A new CometD session of the app: handshake, subscribe to /_genesys; `poll` collects what is pushed. */
  async function session(): Promise<{ clientId: string; pushes: ChatPush[]; poll(): Promise<void> }> {
    const [shake] = await bayeux([{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'] }]);
    const clientId = shake.clientId!;
    const [subscribed] = await bayeux([{ channel: '/meta/subscribe', clientId, subscription: '/_genesys' }]);
    expect(subscribed.successful).to.equal(true);
    const pushes: ChatPush[] = [];
    return {
      clientId,
      pushes,
      async poll() {
        const replies = await bayeux([
          { channel: '/meta/connect', clientId, connectionType: 'long-polling', advice: { timeout: 0 } },
        ]);
        for (const m of replies) if (m.channel === '/_genesys') pushes.push(m.data as ChatPush);
      },
    };
  }

  async function chatUnderWay(): Promise<{ chat: CustomerChat; say(text: string): Promise<unknown> }> {
    const chat = await cometChat(gw, 'ann');
    const chatId = chat.start.body.chatSessionId as string;
    await gw.domain.accept(chatId, AGENT);
    return { chat, say: (text) => gw.domain.agentCommand(chatId, { kind: 'agentSend', agentId: AGENT.id, text }) };
  }

  const pushedUpTo = async (s: { pushes: ChatPush[]; poll(): Promise<void> }, position: number): Promise<void> => {
    await eventually(async () => (await s.poll(), positions(s.pushes).includes(position)), 3000, `position ${position} pushed`);
  };
  const texts = (reply: { body: { transcriptToShow: string[][] } }): string[] => reply.body.transcriptToShow.map((e) => e[2]);

  for (const clientIdState of ['stale', 'fresh'] as const) {
    it(`background with a ${clientIdState} client id, then an empty-body refresh and a new session: the new session gets what was missed, once; nothing repeats after`, async () => {
      const first = await session();
      const { chat, say } = await chatUnderWay();
      await say('one');
      await pushedUpTo(first, 3);

      if (clientIdState === 'stale') {
        // The server dropped the client while the app was suspended (its timeout, here at once).
        expect((await bayeux([{ channel: '/meta/disconnect', clientId: first.clientId }]))[0].successful).to.equal(true);
        await say('two');
      }
      // To the background: the app saw up to 3.
      const [away] = await bayeux([{ channel: '/meta/disconnect', clientId: first.clientId, ext: { transcriptPosition: '3' } }]);
      if (clientIdState === 'stale') expect(away.error).to.match(/^401:/);
      else expect(away.successful).to.equal(true);
      await say('three');
      await say('four');

      // Back: an empty-body refresh first, whose answer the app ignores...
      expect((await chat.call('refresh')).status).to.equal(200);
      // ...then a new CometD session, where what it missed is pushed.
      const back = await session();
      const missed = clientIdState === 'stale' ? ['two', 'three', 'four'] : ['three', 'four'];
      const last = 3 + missed.length;
      await pushedUpTo(back, last);
      expect(received(back.pushes).map(([p, , , text]) => [p, text])).to.deep.equal(missed.map((text, i) => [4 + i, text]));

      await say('five');
      await pushedUpTo(back, last + 1);
      expect(positions(back.pushes)).to.deep.equal(range(4, last + 1));
      // What was pushed counts as given: an empty-body refresh repeats none of it.
      expect(texts(await chat.call('refresh'))).to.deep.equal([]);
    });
  }

  it('pushed events move the server-kept position: an empty-body refresh after pushes repeats nothing, one with a position still answers from it', async () => {
    const app = await session();
    const { chat, say } = await chatUnderWay();
    await say('pushed');
    await pushedUpTo(app, 3);
    expect(texts(await chat.call('refresh'))).to.deep.equal([]);
    await say('pushed too');
    await pushedUpTo(app, 4);
    expect(texts(await chat.call('refresh'))).to.deep.equal([]);
    expect(texts(await chat.call('refresh', { transcriptPosition: '2' }))).to.deep.equal(['pushed', 'pushed too']);
  });

  for (const leaving of ['unsubscribe', 'disconnect'] as const) {
    it(`a client that goes by /meta/${leaving}, with no position: its new session gets what was never handed to it, and what came after, once`, async () => {
      const first = await session();
      const { chat, say } = await chatUnderWay();
      await say('one');
      await pushedUpTo(first, 3);
      await first.poll(); // it asks for more: it has 3
      await say('two'); // queued for its next poll, which never comes
      const message =
        leaving === 'unsubscribe'
          ? { channel: '/meta/unsubscribe', clientId: first.clientId, subscription: '/_genesys' }
          : { channel: '/meta/disconnect', clientId: first.clientId };
      expect((await bayeux([message]))[0].successful).to.equal(true);
      await say('three');

      const back = await session();
      await pushedUpTo(back, 5);
      expect(received(back.pushes).map(([p, , , text]) => [p, text])).to.deep.equal([
        [4, 'two'],
        [5, 'three'],
      ]);
      await say('four');
      await pushedUpTo(back, 6);
      expect(positions(back.pushes)).to.deep.equal([4, 5, 6]);
      expect(texts(await chat.call('refresh'))).to.deep.equal([]);
    });
  }

  it('a client gone with no position, then an empty-body refresh: the refresh answers what was never handed, and the new session repeats none of it', async () => {
    const first = await session();
    const { chat, say } = await chatUnderWay();
    await say('one');
    await pushedUpTo(first, 3);
    await first.poll();
    await say('two');
    expect((await bayeux([{ channel: '/meta/disconnect', clientId: first.clientId }]))[0].successful).to.equal(true);
    await say('three');
    expect(texts(await chat.call('refresh'))).to.deep.equal(['two', 'three']);
    const back = await session();
    await say('four');
    await pushedUpTo(back, 6);
    expect(positions(back.pushes)).to.deep.equal([6]);
  });

  it('an empty-body refresh while away answers from the away position and leaves the mark for the new session', async () => {
    const first = await session();
    const { chat, say } = await chatUnderWay();
    await pushedUpTo(first, 2);
    await bayeux([{ channel: '/meta/disconnect', clientId: first.clientId, ext: { transcriptPosition: '1' } }]);
    await say('while away');
    expect(texts(await chat.call('refresh'))).to.deep.equal(['has joined the session', 'while away']);
    expect(texts(await chat.call('refresh'))).to.deep.equal([]);
    const back = await session();
    await pushedUpTo(back, 3);
    expect(positions(back.pushes)).to.deep.equal([2, 3]);
  });
});

describe('CometD: background and return across two nodes sharing Redis', function () {
  const prefix = uniquePrefix('cometd-away');
  let a: TestGateway | undefined;
  let b: TestGateway | undefined;
  const open: Customer[] = [];

  before(async function () {
    await requireRedis(this);
    const env = { STORE_URL: SHARED_REDIS_URL, STORE_PREFIX: prefix };
    [a, b] = await Promise.all([startTestGateway({ env }), startTestGateway({ env })]);
  });
  after(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await Promise.all([a?.close(), b?.close()]);
    if (a) await dropPrefix(prefix);
  });

  it('a customer who leaves on node A and comes back on node B gets what it missed, then the live events', async () => {
    const leaving = cometdCustomer(a!, 'ann', 'long-polling');
    open.push(leaving);
    await leaving.subscribe();
    const chat = await cometChat(a!, 'ann');
    const chatId = chat.start.body.chatSessionId as string;
    await b!.domain.accept(chatId, AGENT);
    await eventually(() => leaving.pushes.length === 2, 5000, 'two pushes on A');
    expect((await leaving.leave('2')).successful).to.equal(true);

    await b!.domain.agentCommand(chatId, { kind: 'agentSend', agentId: AGENT.id, text: 'while you were away' });
    const back = cometdCustomer(b!, 'ann', 'websocket');
    open.push(back);
    await back.subscribe();
    await a!.domain.agentCommand(chatId, { kind: 'agentSend', agentId: AGENT.id, text: 'welcome back' });
    await eventually(() => positions(back.pushes).includes(4), 5000, 'the live event on B');
    expect(received(back.pushes).map(([p, , , text]) => [p, text])).to.deep.equal([
      [3, 'while you were away'],
      [4, 'welcome back'],
    ]);
  });

  it('a node that stops (a rolling deploy): its customer, back on another node, gets what was said meanwhile, once', async () => {
    const env = { STORE_URL: SHARED_REDIS_URL, STORE_PREFIX: prefix };
    const stopping = await startTestGateway({ env });
    try {
      const before = cometdCustomer(stopping, 'bea', 'long-polling');
      open.push(before);
      await before.subscribe();
      const chat = await cometChat(stopping, 'bea');
      const chatId = chat.start.body.chatSessionId as string;
      await b!.domain.accept(chatId, AGENT);
      await b!.domain.agentCommand(chatId, { kind: 'agentSend', agentId: AGENT.id, text: 'before the deploy' });
      await eventually(() => positions(before.pushes).includes(3), 5000, 'three pushes before the stop');
      await stopping.close();

      await b!.domain.agentCommand(chatId, { kind: 'agentSend', agentId: AGENT.id, text: 'during the deploy' });
      const back = cometdCustomer(b!, 'bea', 'long-polling');
      open.push(back);
      await back.subscribe();
      await b!.domain.agentCommand(chatId, { kind: 'agentSend', agentId: AGENT.id, text: 'after it' });
      await eventually(() => positions(back.pushes).includes(5), 5000, 'the live event on the other node');
      expect(received(back.pushes).map(([p, , , text]) => [p, text])).to.deep.equal([
        [4, 'during the deploy'],
        [5, 'after it'],
      ]);
    } finally {
      await stopping.close();
    }
  });
});

describe('CometD: hostile clients', function () {
  let gw: TestGateway;
  let victim: ReturnType<typeof fayeCustomer>;
  let victimChat: CustomerChat;
  const open: Customer[] = [];
  const customer = <C extends Customer>(c: C): C => (open.push(c), c);

  beforeEach(async () => {
    gw = await startTestGateway();
    victim = customer(fayeCustomer(gw, 'victim', 'long-polling'));
    await victim.subscribe();
    victimChat = await cometChat(gw, 'victim');
    await eventually(() => victim.pushes.length === 1, 3000, "the victim's first push");
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await gw.close();
  });

  /** The victim's chat goes on; an eavesdropper would have seen this by now. */
  async function victimChatGoesOn(): Promise<void> {
    const chatId = victimChat.start.body.chatSessionId as string;
    await gw.domain.accept(chatId, AGENT);
    await gw.domain.agentCommand(chatId, { kind: 'agentSend', agentId: AGENT.id, text: 'your card number, please' });
    await eventually(() => victim.pushes.length === 3, 3000, "the victim's pushes");
  }

  it("another customer on /_genesys receives none of the victim's chat, over either transport", async () => {
    const mallory = customer(fayeCustomer(gw, 'mallory', 'websocket'));
    const eve = customer(cometdCustomer(gw, 'eve', 'websocket'));
    await Promise.all([mallory.subscribe(), eve.subscribe()]);
    await victimChatGoesOn();
    // The customers' own pushes go over the same channels: a push made for mallory now reaches her,
    // so anything of the victim's would have arrived first.
    await cometChat(gw, 'mallory');
    await eventually(() => mallory.pushes.length === 1, 3000, "mallory's own push");
    expect(mallory.raw.map((m) => (m.data as ChatPush).tag)).to.deep.equal([mallory.pushes[0].tag]);
    expect(mallory.pushes[0].tag).to.not.include(victimChat.id);
    expect(eve.raw).to.deep.equal([]);
  });

  it('wildcards, private channel names and other channels are refused', async () => {
    const mallory = customer(fayeCustomer(gw, 'mallory', 'long-polling'));
    await mallory.subscribe();
    const victimId = victim.clientId();
    for (const channel of [
      '/**',
      '/*',
      '/_genesys/**',
      '/_genesys/*',
      '/_private/**',
      `/_private/client/${victimId}`,
      '/_private/client/*',
      '/chat',
      '/agent/a1',
      '/agent/*',
      '/agent/**',
    ]) {
      expect(await refused(mallory.client.subscribe(channel, () => undefined)), channel).to.match(/Forbidden|refused/);
    }
    await victimChatGoesOn();
    await cometChat(gw, 'mallory');
    await eventually(() => mallory.pushes.length === 1, 3000, "mallory's own push");
    expect(mallory.pushes.every((p) => !p.tag.includes(victimChat.id))).to.equal(true);
  });

  it('a client without a gms_user cannot subscribe to /_genesys', async () => {
    const anonymous = customer(fayeCustomer(gw, undefined, 'long-polling'));
    expect(await refused(anonymous.client.subscribe('/_genesys', () => undefined))).to.match(/Forbidden/);
  });

  it('publishing is refused on /_genesys, on a private channel and anywhere else, so nothing forged arrives', async () => {
    const mallory = customer(fayeCustomer(gw, 'mallory', 'websocket'));
    await mallory.subscribe();
    const forged = { id: 'x', tag: `service.chat.refresh.9-${victimChat.id}`, message: { chatIxnState: 'TRANSCRIPT' } };
    const victimId = victim.clientId();
    for (const channel of ['/_genesys', `/_private/client/${victimId}`, '/agent/a1', '/anything']) {
      expect(await refused(mallory.client.publish(channel, forged)), channel).to.match(/may not publish/);
    }
    const eve = cometdCustomer(gw, 'eve', 'long-polling');
    customer(eve);
    await eve.subscribe();
    const reply = await new Promise<Message>((resolve) => eve.cometd.publish('/_genesys', forged, resolve));
    expect(reply.successful).to.equal(false);

    await victimChatGoesOn();
    expect(victim.pushes.map((p) => p.id)).to.not.include('x');
    // What the victim got came from the gateway, on the channel it asked for, without the gateway's secret.
    expect(victim.raw).to.have.length(3);
    expect(victim.raw.every((m) => m.channel === '/_genesys' && !JSON.stringify(m).includes('secret'))).to.equal(true);
  });

  it('a publish with a guessed server secret is refused, and so is a gms_user that differs between header and ext is refused', async () => {
    const post = async (body: unknown, headers: Record<string, string> = {}): Promise<BayeuxMessage[]> => {
      const res = await fetch(`${gw.url}/genesys/cometd`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      return (await res.json()) as BayeuxMessage[];
    };
    const [shake] = await post([{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'] }], {
      gms_user: 'mallory',
    });
    const published = await post([
      { channel: '/_genesys', clientId: shake.clientId, data: { forged: true }, ext: { secret: 'guess' } },
    ]);
    expect(published[0].successful).to.equal(false);

    const [mismatch] = await post(
      [{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'], ext: { gms_user: 'victim' } }],
      { gms_user: 'mallory' },
    );
    expect(mismatch.successful).to.equal(false);
  });

  it('malformed Bayeux messages get an error reply, never a crash, and the endpoint keeps serving', async () => {
    const post = (body: string): Promise<Response> =>
      fetch(`${gw.url}/genesys/cometd`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    for (const body of [
      'not json',
      '[5]',
      '[null]',
      '[{"channel": 5}]',
      '[{}]',
      '[{"channel": "/meta/subscribe", "clientId": "nobody", "subscription": 7}]',
      '[{"channel": "/meta/subscribe", "clientId": "nobody", "subscription": ["/_genesys", 7]}]',
      '[{"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"], "ext": "str"}]',
      '[{"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"], "ext": {"gms_user": 42, "token": 42}}]',
      '[{"channel": "/meta/disconnect", "clientId": "nobody", "ext": {"transcriptPosition": "-1"}}]',
    ]) {
      const res = await post(body);
      expect(res.status, body).to.be.oneOf([200, 400]);
      await res.text();
    }
    const mallory = customer(fayeCustomer(gw, 'mallory', 'long-polling'));
    await mallory.subscribe();
  });
});

describe('CometD: agent channels', function () {
  // A small directory of two agents: the fixture the endpoint authenticates against.
  const agents: Record<string, Agent> = {
    'token-of-ann': { id: 'ann.lee', nickname: 'Ann', endpoints: ['gms_builtin'] },
    'token-of-bob': { id: 'bob', nickname: 'Bob', endpoints: ['gms_builtin'] },
  };
  const directory: AgentDirectory = {
    authenticate: (token) => agents[token],
    agentsOf: () => Object.values(agents),
  };
  let gw: TestGateway;
  let server: http.Server;
  let endpoint: CometdEndpoint;
  let url: string;
  const clients: FayeClient[] = [];

  before(async () => {
    gw = await startTestGateway();
    server = http.createServer((_req, res) => res.writeHead(404).end());
    endpoint = attachCometd({ server, hub: gw.hub, chats: gw.domain, agents: directory, log: createLogger('silent') });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/genesys/cometd`;
  });
  after(async () => {
    await closeFayeClients(clients);
    await endpoint.close();
    await new Promise((resolve) => server.close(resolve));
    await gw.close();
  });

  /** A faye client that sends `ext` on the given meta channel. */
  function agentClient(ext: { on: '/meta/handshake' | '/meta/subscribe'; token: string } | undefined): FayeClient {
    const client = new faye.Client(url);
    client.disable('websocket');
    if (ext) {
      client.addExtension({
        outgoing(message: BayeuxMessage, callback: (m: BayeuxMessage) => void) {
          if (message.channel === ext.on) message.ext = { token: ext.token };
          callback(message);
        },
      });
    }
    clients.push(client);
    return client;
  }

  it('an agent proving itself on subscribe receives what is published to its channel', async () => {
    const client = agentClient({ on: '/meta/subscribe', token: 'token-of-bob' });
    const got: unknown[] = [];
    await toPromise(client.subscribe('/agent/bob', (data) => got.push(data)));
    expect(endpoint.publishToAgent('bob', 'gms_builtin', { type: 'waiting', n: 1 })).to.equal(true);
    await eventually(() => got.length === 1, 3000, 'the agent push');
    expect(got).to.deep.equal([{ type: 'waiting', n: 1 }]);
  });

  it('an agent proving itself on handshake may subscribe to its channel (ids with dots too, over CometD)', async () => {
    const cometd = new CometD();
    cometd.unregisterTransport('websocket');
    cometd.configure({ url });
    const got: unknown[] = [];
    await new Promise<void>((resolve, reject) =>
      cometd.handshake({ ext: { token: 'token-of-ann' } }, (m) => (m.successful ? resolve() : reject(new Error(m.error)))),
    );
    await new Promise<void>((resolve, reject) =>
      cometd.subscribe(
        '/agent/ann.lee',
        (m) => got.push(m.data),
        (m) => (m.successful ? resolve() : reject(new Error(m.error))),
      ),
    );
    endpoint.publishToAgent('ann.lee', 'gms_builtin', { hello: 'ann' });
    await eventually(() => got.length === 1, 3000, 'the agent push');
    expect(got).to.deep.equal([{ hello: 'ann' }]);
    await new Promise((resolve) => cometd.disconnect(resolve));
  });

  it("no agent may subscribe to another agent's channel, without a token, with a wrong one, or by wildcard", async () => {
    const ann = agentClient({ on: '/meta/subscribe', token: 'token-of-ann' });
    for (const channel of ['/agent/bob', '/agent/*', '/agent/**', '/**']) {
      expect(await refused(ann.subscribe(channel, () => undefined)), channel).to.match(/Forbidden/);
    }
    expect(await refused(agentClient(undefined).subscribe('/agent/bob', () => undefined))).to.match(/Forbidden/);
    expect(
      await refused(agentClient({ on: '/meta/subscribe', token: 'token-of-bob ' }).subscribe('/agent/bob', () => undefined)),
    ).to.match(/Forbidden/);
  });

  it('a handshake with a wrong agent token is refused', async () => {
    const cometd = new CometD();
    cometd.unregisterTransport('websocket');
    cometd.configure({ url });
    const reply = await new Promise<Message>((resolve) => cometd.handshake({ ext: { token: 'nope' } }, resolve));
    expect(reply.successful).to.equal(false);
    cometd.disconnect();
  });

  it('an id that cannot name a channel is not published to', () => {
    expect(endpoint.publishToAgent('../x', 'gms_builtin', {})).to.equal(false);
  });
});

describe('CometD: long-polls', function () {
  let gw: TestGateway;
  let server: http.Server;
  let endpoint: CometdEndpoint;

  before(async () => {
    gw = await startTestGateway();
    server = http.createServer((_req, res) => res.writeHead(404).end());
    endpoint = attachCometd({ server, hub: gw.hub, chats: gw.domain, log: createLogger('silent'), timeoutSeconds: 1 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    await endpoint.close();
    await new Promise((resolve) => server.close(resolve));
    await gw.close();
  });

  it("a client cannot ask for a long-poll held longer than the server's timeout", async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/genesys/cometd`;
    const post = async (message: object): Promise<BayeuxMessage[]> =>
      (await (
        await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', gms_user: 'ann' },
          body: JSON.stringify([message]),
        })
      ).json()) as BayeuxMessage[];
    const [shake] = await post({ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'] });
    const clientId = shake.clientId;
    await post({ channel: '/meta/connect', clientId, connectionType: 'long-polling', advice: { timeout: 0 } });
    const started = Date.now();
    const [reply] = await post({
      channel: '/meta/connect',
      clientId,
      connectionType: 'long-polling',
      advice: { timeout: 3_600_000 },
    });
    expect(reply.successful).to.equal(true);
    expect(Date.now() - started).to.be.below(3000);
  });
});
