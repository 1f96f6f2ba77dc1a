// Abandoned chats (service options customerIdleWarning / customerIdleEnd), over real HTTP and CometD with
// short settings: a customer who stops polling, or whose last CometD client goes, is warned, then the
// chat ends for everyone; a waiting chat abandoned this way leaves the queue; coming back clears the warning.
// The gateway runs on a test clock: an absence lasts as long as the test moves the clock, not as it waits.

import { expect } from 'chai';
import faye from 'faye';
import type { AgentPushMessage } from '../src/endpoints/agent-push.ts';
import { awaySet } from '../src/chat/session-records.ts';
import { closeFayeClient, closeFayeClients } from './helpers/faye-client.ts';
import { agentClient, endpointFile, tokenOf } from './helpers/agent-client.ts';
import { startCustomerChat, type CustomerChat } from './helpers/chat-client.ts';
import { eventually, startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { TestClock } from './helpers/test-clock.ts';

type Client = InstanceType<typeof faye.Client>;
type EventsPush = Extract<AgentPushMessage, { type: 'events' }>;

/** A faye client subscribed to `channel`, with what it received. */
async function subscribe<T>(
  gw: TestGateway,
  channel: string,
  setup: (client: Client) => void,
): Promise<{ client: Client; received: T[] }> {
  const client = new faye.Client(`${gw.url}/genesys/cometd`, { timeout: 5 });
  setup(client);
  const received: T[] = [];
  await new Promise<void>((resolve, reject) => {
    client
      .subscribe(channel, (data) => received.push(data as T))
      .then(
        () => resolve(),
        (err) => reject(new Error(err.message)),
      );
  });
  return { client, received };
}

describe('abandoned chats (customerIdleWarning, customerIdleEnd)', () => {
  let gw: TestGateway;
  const clock = new TestClock();
  const clients: Client[] = [];
  const alice = () => agentClient(gw, 'alice');

  /** Alice's CometD channel, and the events of one chat she hears of there. */
  async function aliceListens(): Promise<{
    received: AgentPushMessage[];
    eventsOf: (chatId: string) => EventsPush['events'];
    pushes: (chatId: string) => AgentPushMessage[];
  }> {
    const token = tokenOf('alice');
    const { client, received } = await subscribe<AgentPushMessage>(gw, '/agent/alice', (c) =>
      c.addExtension({
        outgoing(message, callback) {
          if (message.channel === '/meta/handshake') message.ext = { ...message.ext, token };
          callback(message);
        },
      }),
    );
    clients.push(client);
    const pushes = (chatId: string) =>
      received.filter((m) => (m.type === 'waiting' ? m.chat.chatSessionId : m.chatSessionId) === chatId);
    const eventsOf = (chatId: string) => pushes(chatId).flatMap((m) => (m.type === 'events' ? m.events : []));
    return { received, eventsOf, pushes };
  }

  before(async () => {
    gw = await startTestGateway({
      services: { 'request-chat.json': {}, 'brisk.json': { customerIdleWarning: 60, customerIdleEnd: 60 } },
      endpoints: { 'gms_builtin.json': endpointFile(['alice']) },
      env: { SWEEP_INTERVAL_MS: '50' },
      clock,
    });
  });

  /** Resolves after two more passes of the expiry sweep: the one under way may have read the clock before it moved. */
  async function twoSweeps(): Promise<void> {
    const passes = async (): Promise<number> =>
      Number(/^gms_expiry_sweeps_total (\d+)/m.exec((await gw.get('/metrics')).body as string)?.[1]);
    const before = await passes();
    await eventually(async () => (await passes()) >= before + 2, 5000, 'two sweeps');
  }
  afterEach(() => closeFayeClients(clients));
  after(() => gw.close());

  it('a customer who stops polling is warned, then the chat ends with their Notice.Left for the agent and the customer; their typing is cleared', async () => {
    const listener = await aliceListens();
    const customer = await startCustomerChat(gw, { service: 'brisk', start: { userDisplayName: 'Gus' } });
    const chatId = customer.start.body.chatSessionId as string;
    expect((await alice().post(`/chats/${chatId}/accept`)).status).to.equal(200);
    // Polling keeps the chat alive past the warning time.
    for (let i = 0; i < 4; i++) {
      clock.advance(40_000);
      expect((await customer.call('refresh')).status).to.equal(200);
      await twoSweeps();
    }
    expect((await customer.call('startTyping')).status).to.equal(200);
    const lastCall = clock.now();
    // The sweep finds the absent customer in the service's set of them, not by reading every session.
    expect(await gw.store.members(awaySet('brisk'))).to.include(customer.id);
    expect(listener.eventsOf(chatId).filter((e) => e.type === 'Notice.Custom')).to.deep.equal([]);

    // The test clock is real time plus its jumps: the sweeps awaited here take real seconds on a loaded
    // machine, so "not yet" is checked 10 s short of the time, not 1 s.
    clock.advance(50_000);
    await twoSweeps();
    expect(listener.eventsOf(chatId).filter((e) => e.type === 'Notice.Custom')).to.deep.equal([]);
    clock.advance(10_000);
    await eventually(() => listener.eventsOf(chatId).some((e) => e.type === 'Notice.Custom'), 5000, 'the warning');
    clock.advance(50_000);
    await twoSweeps();
    expect(listener.eventsOf(chatId).map((e) => e.type)).not.to.include('Notice.Left');
    clock.advance(10_000);
    await eventually(() => listener.eventsOf(chatId).some((e) => e.type === 'Notice.Left'), 5000, 'the chat to end');
    const events = listener.eventsOf(chatId);
    expect(events.map((e) => [e.type, e.nickname, e.partyType])).to.deep.equal([
      ['Notice.Joined', 'Alice', 'AGENT'],
      ['Notice.TypingStarted', 'Gus', 'CLIENT'],
      ['Notice.Custom', 'system', 'EXTERNAL'],
      ['Notice.TypingStopped', 'Gus', 'CLIENT'],
      ['Notice.Left', 'Gus', 'CLIENT'],
    ]);
    const warning = events[2];
    const left = events[4];
    expect(warning.text).to.equal('The customer seems to have gone; the chat ends in 60 s unless they come back.');
    // Presence is recorded at most once a second (seenSlackMs): the last call may count from up to 1 s earlier.
    expect(Date.parse(warning.at)).to.be.at.least(lastCall + 60_000 - 1000);
    expect(Date.parse(left.at) - Date.parse(warning.at)).to.be.at.least(60_000);
    expect(listener.pushes(chatId).at(-1)).to.include({ type: 'events', state: 'ended' });

    // The customer who comes back finds the chat over, with what happened.
    const end = await customer.call('refresh', { transcriptPosition: '2' });
    expect(end.body.chatIxnState).to.equal('DISCONNECTED');
    expect(end.body.transcriptToShow.map((e: string[]) => e[0])).to.deep.equal([
      'Notice.TypingStarted',
      'Notice.Custom',
      'Notice.TypingStopped',
      'Notice.Left',
    ]);
    expect((await alice().get(`/chats/${chatId}`)).body.state).to.equal('ended');
    expect((await customer.call('send', { message: 'hello?' })).body.exception).to.equal('ChatEnded');
  });

  it('a customer who comes back after the warning clears it: the next warning needs a whole new absence', async () => {
    const listener = await aliceListens();
    const customer: CustomerChat = await startCustomerChat(gw, { service: 'brisk' });
    const chatId = customer.start.body.chatSessionId as string;
    await alice().post(`/chats/${chatId}/accept`);
    const warnings = () => listener.eventsOf(chatId).filter((e) => e.type === 'Notice.Custom');
    clock.advance(60_000);
    await eventually(() => warnings().length === 1, 5000, 'the first warning');
    const back = clock.now();
    const seen = await customer.call('refresh');
    expect(seen.body.transcriptToShow.map((e: string[]) => e[0])).to.include('Notice.Custom');

    // A customerIdleEnd after the first warning: no end, and no second warning before a whole new absence.
    clock.advance(30_000);
    await twoSweeps();
    expect(warnings()).to.have.length(1);
    clock.advance(30_000);
    await eventually(() => warnings().length === 2, 5000, 'the second warning');
    expect(Date.parse(warnings()[1].at)).to.be.at.least(back + 60_000);
    // Still on: the end comes a whole customerIdleEnd after the second warning, not after the first.
    expect(listener.eventsOf(chatId).map((e) => e.type)).not.to.include('Notice.Left');
    clock.advance(60_000);
    await eventually(() => listener.eventsOf(chatId).some((e) => e.type === 'Notice.Left'), 5000, 'the end');
    const left = listener.eventsOf(chatId).find((e) => e.type === 'Notice.Left')!;
    expect(Date.parse(left.at) - Date.parse(warnings()[1].at)).to.be.at.least(1000);
  });

  it('a waiting chat whose customer is gone leaves the queue, and the agents are told', async () => {
    const listener = await aliceListens();
    const customer = await startCustomerChat(gw, { service: 'brisk', start: { userDisplayName: 'Otto' } });
    const chatId = customer.start.body.chatSessionId as string;
    const waitingIds = async () =>
      (await alice().get('/chats?state=waiting')).body.chats.map((c: { chatSessionId: string }) => c.chatSessionId);
    expect(await waitingIds()).to.include(chatId);

    // Warned (the agents, not in the chat, are not told of that), then ended.
    clock.advance(60_000);
    await twoSweeps();
    expect(listener.pushes(chatId).map((m) => m.type)).not.to.include('dequeued');
    clock.advance(60_000);
    await eventually(() => listener.pushes(chatId).some((m) => m.type === 'dequeued'), 5000, 'the chat to leave the queue');
    expect(await waitingIds()).not.to.include(chatId);
    expect((await alice().get(`/chats/${chatId}`)).body.state).to.equal('ended');
    const end = await customer.call('refresh', { transcriptPosition: '1' });
    expect(end.body.chatIxnState).to.equal('DISCONNECTED');
    expect(end.body.transcriptToShow.map((e: string[]) => [e[0], e[1]])).to.deep.equal([
      ['Notice.Custom', 'system'],
      ['Notice.Left', 'Otto'],
    ]);
    expect((await alice().post(`/chats/${chatId}/accept`)).body.exception).to.equal('ChatEnded');
  });

  it('a CometD customer is there while a CometD client of theirs is; once the last one goes, the chat is warned and ends', async () => {
    const listener = await aliceListens();
    const { client, received } = await subscribe<{ message: { chatIxnState: string } }>(gw, '/_genesys', (c) =>
      c.setHeader('gms_user', 'zoe-idle'),
    );
    clients.push(client);
    const customer = await startCustomerChat(gw, {
      service: 'brisk',
      headers: { gms_user: 'zoe-idle' },
      start: { notify_by: 'comet', userDisplayName: 'Zoe' },
    });
    const chatId = customer.start.body.chatSessionId as string;
    await alice().post(`/chats/${chatId}/accept`);
    await eventually(() => received.length > 0, 3000, 'a push to the customer');
    // Connected but silent for longer than the warning time: nothing happens.
    clock.advance(90_000);
    await twoSweeps();
    expect(listener.eventsOf(chatId).map((e) => e.type)).to.deep.equal(['Notice.Joined']);

    const gone = clock.now();
    await closeFayeClient(client);
    await eventually(async () => (await gw.get('/metrics')).body.includes('gms_cometd_clients 1\n'), 5000, 'the client to go');
    clock.advance(60_000);
    await eventually(() => listener.eventsOf(chatId).some((e) => e.type === 'Notice.Custom'), 5000, 'the warning');
    clock.advance(60_000);
    await eventually(() => listener.eventsOf(chatId).some((e) => e.type === 'Notice.Left'), 5000, 'the chat to end');
    const events = listener.eventsOf(chatId);
    expect(events.map((e) => e.type)).to.deep.equal(['Notice.Joined', 'Notice.Custom', 'Notice.Left']);
    expect(Date.parse(events[1].at)).to.be.at.least(gone + 60_000);
  });
});
