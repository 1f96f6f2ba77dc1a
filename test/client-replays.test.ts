// Each public GMS client's request sequence, replayed through real HTTP against a listening gateway,
// with the bodies, content types and parameter positions that client sends, and its answers read the
// way that client reads them. (The bank web client's CometD sequence is in the CometD tests.)

import { expect } from 'chai';
import { agentClient, endpointFile, type AgentClient } from './helpers/agent-client.ts';
import { request, startTestGateway, type Reply, type TestGateway } from './helpers/gateway.ts';

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8' };
const JSON_BODY = { 'Content-Type': 'application/json; charset=utf-8' };

/** The enums of the Android client's pojo package: a value outside them would not map. */
const ANDROID_CHAT_EVENTS = [
  'Message.Text',
  'Notice.Joined',
  'Notice.Left',
  'Notice.TypingStarted',
  'Notice.TypingStopped',
  'Notice.PushUrl',
];
const ANDROID_PARTY_TYPES = ['AGENT', 'CLIENT', 'EXTERNAL', 'SUPERVISOR'];
const ANDROID_STATES = ['CONNECTED', 'TRANSCRIPT', 'DISCONNECTED'];

/** Reads a chat response the way the Android client's ChatResponse (Gson) does, failing where it would. */
function asAndroidChatResponse(
  reply: Reply,
  verbose: boolean,
): { position: number; entries: Array<[string, string, string, number, string]> } {
  expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
  const b = reply.body;
  expect(ANDROID_STATES).to.include(b.chatIxnState);
  expect(b.transcriptPosition).to.match(/^\d+$/); // an int field: Gson reads "3" as 3
  expect(b.startedAt).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  for (const key of ['chatSessionId', 'chatServiceMessage']) expect(b[key]).to.be.a('string');
  const entries = (b.transcriptToShow as string[][]).map((e) => {
    expect(e).to.have.length(5);
    expect(ANDROID_CHAT_EVENTS).to.include(e[0]);
    expect(e[3]).to.match(/^\d+$/); // partyId: an int field
    expect(ANDROID_PARTY_TYPES).to.include(e[4]);
    return [e[0], e[1], e[2], Number(e[3]), e[4]] as [string, string, string, number, string];
  });
  if (verbose) {
    for (const key of [
      'userId',
      'secureKey',
      'checkChatServiceLoadBalancerPath',
      'chatServerLoadBalancerAlias',
      'chatServerHost',
      'clientTimeZoneOffset',
    ]) {
      expect(b[key], key).to.be.a('string');
    }
    expect(b.chatWebApiPort).to.be.a('number'); // int field: a string here would not map
    expect(b.isTLSrequired).to.be.a('boolean');
    for (const action of ['SEND', 'REFRESH', 'START_TYPING', 'STOP_TYPING', 'DISCONNECT', 'REFRESH_FROM_START']) {
      expect(b[`_chatIxnAPI_${action}_URL`]).to.match(/^\/genesys\/1\/service\/[0-9a-f-]{36}\/ixn\/chat/);
    }
  }
  return { position: Number(b.transcriptPosition), entries };
}

describe('public GMS clients, replayed', () => {
  let gw: TestGateway;
  let alice: AgentClient;
  beforeEach(async () => {
    gw = await startTestGateway({ endpoints: { 'gms_builtin.json': endpointFile(['alice']) } });
    alice = agentClient(gw, 'alice');
  });
  afterEach(() => gw.close());

  const raw = (method: string, path: string, body?: string, headers: Record<string, string> = {}) =>
    request(gw.url, method, path, body, headers);
  async function agentJoinsAndSays(chatSessionId: string, message: string): Promise<void> {
    expect((await alice.post(`/chats/${chatSessionId}/accept`)).status).to.equal(200);
    expect((await alice.post(`/chats/${chatSessionId}/send`, { message })).status).to.equal(200);
  }

  it('the Android Retrofit client (gms-callback-sample-legacy): form bodies, _verbose on every call, push registration at the start', async () => {
    // ChatService.basicChat: @Field("_verbose") + @FieldMap business data, read into ChatBasicResponse.
    const created = await raw('POST', '/genesys/1/service/request-chat', '_verbose=true&first_name=Ann&account=12-345', FORM);
    expect(created.status).to.equal(200);
    expect(created.body).to.have.all.keys('_id', '_chatIxnAPI-CREATE-URL'); // nothing its mapper does not know
    const chatUrl = created.body['_chatIxnAPI-CREATE-URL'] as string;

    // ChatService.startChat with the push notification fields (Retrofit writes a boolean as "true"/"false").
    const start = await raw(
      'POST',
      chatUrl,
      new URLSearchParams({
        _verbose: 'true',
        notify_by: 'push',
        firstName: 'Ann',
        lastName: 'Lee',
        email: 'ann@example.com',
        subject: 'My card',
        subscriptionID: 'sub-7',
        userDisplayName: 'Ann',
        push_notification_deviceid: 'fcm-token-1',
        push_notification_type: 'fcm',
        push_notification_language: 'en',
        push_notification_debug: 'false',
      }).toString(),
      FORM,
    );
    const started = asAndroidChatResponse(start, true);
    expect(started.entries).to.deep.equal([['Notice.Joined', 'Ann', 'has joined the session', 0, 'CLIENT']]);
    const urls = start.body as Record<string, string>;

    // What the agent sees: the business data, not the device's push registration.
    const chatId = start.body.chatSessionId as string;
    const waiting = (await alice.get('/chats?state=waiting')).body.chats.find(
      (c: { chatSessionId: string }) => c.chatSessionId === chatId,
    );
    expect(waiting.userData).to.deep.equal({ first_name: 'Ann', account: '12-345' });
    await agentJoinsAndSays(chatId, 'Hello Ann');

    // send: message + _verbose; refresh: transcriptPosition (an int) + _verbose, message null so left out.
    const sent = asAndroidChatResponse(
      await raw('POST', urls._chatIxnAPI_SEND_URL, 'message=My+card+was+declined&_verbose=true', FORM),
      true,
    );
    expect(sent.entries.map((e) => e[2])).to.include('My card was declined');
    const polled = asAndroidChatResponse(
      await raw('POST', urls._chatIxnAPI_REFRESH_URL, `transcriptPosition=${started.position}&_verbose=true`, FORM),
      true,
    );
    expect(polled.entries.map((e) => [e[0], e[2], e[4]])).to.deep.equal([
      ['Notice.Joined', 'has joined the session', 'AGENT'],
      ['Message.Text', 'Hello Ann', 'AGENT'],
      ['Message.Text', 'My card was declined', 'CLIENT'],
    ]);
    asAndroidChatResponse(await raw('POST', urls._chatIxnAPI_START_TYPING_URL, '_verbose=true', FORM), true);
    asAndroidChatResponse(await raw('POST', urls._chatIxnAPI_STOP_TYPING_URL, '_verbose=false', FORM), false);
    const all = asAndroidChatResponse(await raw('POST', urls._chatIxnAPI_REFRESH_FROM_START_URL, '_verbose=true', FORM), true);
    expect(all.position).to.equal(all.entries.length);
    const left = await raw('POST', urls._chatIxnAPI_DISCONNECT_URL, '_verbose=true', FORM);
    asAndroidChatResponse(left, true);
    expect(left.body.chatIxnState).to.equal('DISCONNECTED');
  });

  it('the Node bridge: empty-body polls, and messages sent through refresh: every event once, none missed', async () => {
    const created = await raw('POST', '/genesys/1/service/request-chat', 'bridge=whatsapp', {
      'Content-Type': 'application/x-www-form-urlencoded',
    });
    const base = `/genesys/1/service/${created.body._id}/ixn/chat`;
    const start = await raw('POST', base, 'firstName=Bo&notify_by=poll', { 'Content-Type': 'application/x-www-form-urlencoded' });
    expect(start.status).to.equal(200);
    const seen: string[][] = [...start.body.transcriptToShow];
    const poll = async (body?: string): Promise<Reply> => {
      // A poll with no body at all, no content type: the bridge relies on the server-kept position.
      const reply = await raw(
        'POST',
        `${base}/refresh`,
        body,
        body === undefined ? {} : { 'Content-Type': 'application/x-www-form-urlencoded' },
      );
      expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
      seen.push(...reply.body.transcriptToShow);
      return reply;
    };

    await poll();
    await agentJoinsAndSays(start.body.chatSessionId, 'Hi Bo');
    await poll();
    await poll(); // nothing new: nothing repeated
    await poll('message=I+need+help'); // a message sent through refresh
    await alice.post(`/chats/${start.body.chatSessionId}/send`, { message: 'Sure' });
    await poll('message=Thanks');
    const last = await poll();
    expect(seen.map((e) => [e[0], e[2], e[4]])).to.deep.equal([
      ['Notice.Joined', 'has joined the session', 'CLIENT'],
      ['Notice.Joined', 'has joined the session', 'AGENT'],
      ['Message.Text', 'Hi Bo', 'AGENT'],
      ['Message.Text', 'I need help', 'CLIENT'],
      ['Message.Text', 'Sure', 'AGENT'],
      ['Message.Text', 'Thanks', 'CLIENT'],
    ]);
    expect(last.body.transcriptPosition).to.equal('6');
    const bye = await raw('POST', `${base}/disconnect`);
    expect(bye.status).to.equal(200);
    expect(bye.body.chatIxnState).to.equal('DISCONNECTED');
    expect(bye.body.transcriptToShow.map((e: string[]) => e[0])).to.deep.equal(['Notice.Left']);
  });

  it('the Dart client: JSON bodies, positions in the query string', async () => {
    const created = await raw(
      'POST',
      '/genesys/1/service/request-chat',
      JSON.stringify({ _verbose: true, locale: 'fr_FR' }),
      JSON_BODY,
    );
    expect(created.body).to.have.all.keys('_id', '_chatIxnAPI-CREATE-URL');
    const base = created.body['_chatIxnAPI-CREATE-URL'] as string;
    const start = await raw(
      'POST',
      base,
      JSON.stringify({ _verbose: true, firstName: 'Cy', lastName: 'Dee', subject: 'Delivery' }),
      JSON_BODY,
    );
    expect(start.status).to.equal(200);
    expect(start.body.secureKey).to.be.a('string'); // _verbose as a JSON boolean counts
    expect(start.body.chatWebApiPort).to.equal(Number(new URL(gw.url).port));
    await agentJoinsAndSays(start.body.chatSessionId, 'Bonjour Cy');
    expect((await raw('POST', `${base}/send`, JSON.stringify({ message: 'Where is my parcel?' }), JSON_BODY)).status).to.equal(
      200,
    );

    // The position in the query string, the body an empty JSON object: it decides what is shown.
    const fromOne = await raw('POST', `${base}/refresh?transcriptPosition=1`, '{}', JSON_BODY);
    expect(fromOne.body.transcriptToShow.map((e: string[]) => e[2])).to.deep.equal([
      'has joined the session',
      'Bonjour Cy',
      'Where is my parcel?',
    ]);
    expect(fromOne.body.transcriptPosition).to.equal('4');
    const fromThree = await raw('POST', `${base}/refresh?transcriptPosition=3`, '{}', JSON_BODY);
    expect(fromThree.body.transcriptToShow.map((e: string[]) => e[2])).to.deep.equal(['Where is my parcel?']);
    const again = await raw('POST', `${base}/refresh?transcriptPosition=3`, '{}', JSON_BODY);
    expect(again.body.transcriptToShow).to.have.length(1); // a given position is read again, not consumed
    const upToDate = await raw('POST', `${base}/refresh?transcriptPosition=4`, '{}', JSON_BODY);
    expect(upToDate.body.transcriptToShow).to.deep.equal([]);
    // A position in both places: the body wins, as for every parameter.
    const both = await raw('POST', `${base}/refresh?transcriptPosition=0`, JSON.stringify({ transcriptPosition: 3 }), JSON_BODY);
    expect(both.body.transcriptToShow).to.have.length(1);
    const bad = await raw('POST', `${base}/refresh?transcriptPosition=-1`, '{}', JSON_BODY);
    expect(bad.status).to.equal(400);
    expect(bad.body.exception).to.equal('InvalidParameter');
    const bye = await raw('POST', `${base}/disconnect`, '{}', JSON_BODY);
    expect(bye.body.chatIxnState).to.equal('DISCONNECTED');
  });
});
