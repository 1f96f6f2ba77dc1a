// GMS's exact answers by default: request-chat answers only what GMS answers, the verbose chat
// response carries the Chat Server fields v1 clients map, with honest values, and only v1 types.

import { expect } from 'chai';
import { chatResponse } from '../src/chat/transcript.ts';
import type { ChatEvent, EventType, PartyType } from '../src/chat/types.ts';
import { agentClient, endpointFile } from './helpers/agent-client.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

/** The verbose fields of ChatResponse.java in the public Android client (gms-callback-sample-legacy). */
const ANDROID_VERBOSE_FIELDS = [
  'userId',
  'secureKey',
  'checkChatServiceLoadBalancerPath',
  'chatServerLoadBalancerAlias',
  'chatServerHost',
  'chatWebApiPort',
  'isTLSrequired',
  'clientTimeZoneOffset',
  '_chatIxnAPI_SEND_URL',
  '_chatIxnAPI_REFRESH_URL',
  '_chatIxnAPI_START_TYPING_URL',
  '_chatIxnAPI_STOP_TYPING_URL',
  '_chatIxnAPI_DISCONNECT_URL',
  '_chatIxnAPI_REFRESH_FROM_START_URL',
];
const BASIC_FIELDS = [
  'chatIxnState',
  'chatSessionId',
  'transcriptPosition',
  'chatServiceMessage',
  'startedAt',
  'transcriptToShow',
];

describe("GMS's exact answers", () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('request-chat answers _id and _chatIxnAPI-CREATE-URL only, even with _verbose=true; our extras only on _gateway_extras', async () => {
    gw = await startTestGateway({ endpoints: { 'gms_builtin.json': endpointFile(['alice']) } });
    const gms = await gw.post('/genesys/1/service/request-chat', { _verbose: 'true', topic: 'billing' });
    expect(gms.status).to.equal(200);
    expect(gms.body).to.have.all.keys('_id', '_chatIxnAPI-CREATE-URL');

    const ours = await gw.post('/genesys/1/service/request-chat', { _gateway_extras: 'true', topic: 'billing' });
    expect(ours.body).to.deep.equal({
      _id: ours.body._id,
      '_chatIxnAPI-CREATE-URL': `/genesys/1/service/${ours.body._id}/ixn/chat`,
      _service: 'request-chat',
      _ttl: 3600,
      _endpoint: 'gms_builtin',
      _data: { topic: 'billing' },
    });
    // Asking for the extras is not business data: the agent sees only the client's own keys.
    const started = await gw.post(`/genesys/1/service/${ours.body._id}/ixn/chat`, { firstName: 'Ann' });
    const alice = agentClient(gw, 'alice');
    const waiting = (await alice.get('/chats?state=waiting')).body.chats;
    const entry = waiting.find((c: { chatSessionId: string }) => c.chatSessionId === started.body.chatSessionId);
    expect(entry.userData).to.deep.equal({ topic: 'billing' });
  });

  it('the verbose chat response has every field of the Android ChatResponse, typed as it maps them, with the values of this gateway', async () => {
    gw = await startTestGateway();
    const created = await gw.post('/genesys/1/service/request-chat');
    const start = await gw.post(`/genesys/1/service/${created.body._id}/ixn/chat`, { _verbose: 'true', firstName: 'Ann' });
    expect(start.status).to.equal(200);
    expect(start.body).to.have.all.keys(...BASIC_FIELDS, ...ANDROID_VERBOSE_FIELDS, 'alias');
    const port = Number(new URL(gw.url).port);
    expect(start.body).to.include({
      checkChatServiceLoadBalancerPath: '',
      chatServerLoadBalancerAlias: '',
      chatServerHost: '127.0.0.1',
      chatWebApiPort: port,
      isTLSrequired: false,
      clientTimeZoneOffset: '0',
    });
    // The offset a client gives at the start is the one it gets back.
    const other = await gw.post('/genesys/1/service/request-chat');
    const withOffset = await gw.post(`/genesys/1/service/${other.body._id}/ixn/chat`, {
      _verbose: 'true',
      clientTimeZoneOffset: '-300',
    });
    expect(withOffset.body.clientTimeZoneOffset).to.equal('-300');
    // Every later call with _verbose answers them too; without it, the basic fields only.
    const send = await gw.post(`/genesys/1/service/${created.body._id}/ixn/chat/send`, { message: 'Hi', _verbose: 'true' });
    expect(send.body).to.have.all.keys(...BASIC_FIELDS, ...ANDROID_VERBOSE_FIELDS, 'alias');
    const plain = await gw.post(`/genesys/1/service/${created.body._id}/ixn/chat/refresh`);
    expect(plain.body).to.have.all.keys(...BASIC_FIELDS);
  });

  it('behind a trusted TLS proxy the verbose fields name the host, port and TLS the client used', async () => {
    gw = await startTestGateway({ env: { TRUST_PROXY: 'true' } });
    const created = await gw.post('/genesys/1/service/request-chat');
    const proxied = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'chat.example.com' };
    const start = await gw.post(`/genesys/1/service/${created.body._id}/ixn/chat`, { _verbose: 'true' }, proxied);
    expect(start.body).to.include({ chatServerHost: 'chat.example.com', chatWebApiPort: 443, isTLSrequired: true });
  });

  it('a file an agent sends in a v1 chat is not shown to the v1 customer, whose positions still count it', async () => {
    gw = await startTestGateway({
      services: { 'request-chat.json': { fileTransfer: { enabled: true } } },
      endpoints: { 'gms_builtin.json': endpointFile(['alice']) },
    });
    const created = await gw.post('/genesys/1/service/request-chat');
    const base = `/genesys/1/service/${created.body._id}/ixn/chat`;
    const start = await gw.post(base, { firstName: 'Ann' });
    const chatId = start.body.chatSessionId as string;
    const alice = agentClient(gw, 'alice');
    expect((await alice.post(`/chats/${chatId}/accept`)).status).to.equal(200);
    const form = new FormData();
    form.set('file', new Blob(['%PDF-1.4 invoice']), 'invoice.pdf');
    expect((await alice.post(`/chats/${chatId}/files`, form)).status).to.equal(200);
    expect((await alice.post(`/chats/${chatId}/send`, { message: 'Here is your invoice' })).status).to.equal(200);
    const seen = await gw.post(`${base}/refresh`, { transcriptPosition: '1' });
    expect(seen.body.transcriptToShow.map((e: string[]) => e[0])).to.deep.equal(['Notice.Joined', 'Message.Text']);
    expect(seen.body.transcriptPosition).to.equal('4');
  });

  it('a v1 transcript holds only v1 event types and party types', () => {
    const event = (position: number, type: string, partyType: string): ChatEvent => ({
      position,
      type: type as EventType,
      nickname: 'x',
      text: 't',
      at: 0,
      partyType: partyType as PartyType,
    });
    const body = chatResponse(
      { chatSessionId: 'c', state: 'connected', startedAt: 0 },
      [event(1, 'Notice.Joined', 'CLIENT'), event(2, 'Notice.FileUploaded', 'AGENT'), event(3, 'Message.Text', 'BOT')],
      3,
    );
    expect(body.transcriptPosition).to.equal('3');
    expect(body.transcriptToShow.map((e) => [e[0], e[4]])).to.deep.equal([
      ['Notice.Joined', 'CLIENT'],
      ['Message.Text', 'EXTERNAL'],
    ]);
  });
});
