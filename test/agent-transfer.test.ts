// Transfer and conference through the agent API, over real HTTP with a real customer: a chat handed to
// another agent, or back to a queue; a second agent or a supervisor (seen or silent) in the chat; the
// refusals (not ready, full, unknown) and the races (two transfers at once, a transfer while the customer
// leaves), on the memory, SQLite and Redis stores.

import path from 'node:path';
import { expect } from 'chai';
import faye from 'faye';
import type { AgentPushMessage } from '../src/endpoints/agent-push.ts';
import { closeFayeClient } from './helpers/faye-client.ts';
import { agentClient, endpointFile, tokenOf, type AgentClient } from './helpers/agent-client.ts';
import { startCustomerChat, type CustomerChat } from './helpers/chat-client.ts';
import { startV2Chat } from './helpers/chat-v2-client.ts';
import { eventually, makeTempDir, startTestGateway, type Reply, type TestGateway } from './helpers/gateway.ts';
import { dropPrefix, requireRedis, SHARED_REDIS_URL, uniquePrefix } from './helpers/redis-nodes.ts';

type Wire = [string, string, string, string, string];

/** The endpoint files: carol holds one chat at most; sam is a supervisor; dave serves another endpoint. */
function endpoints(): Record<string, unknown> {
  const main = endpointFile(['alice', 'bob', 'carol', 'sam']);
  const listed = main.agents as Array<Record<string, unknown>>;
  listed[2].maxChats = 1;
  listed[3].role = 'supervisor';
  return {
    'gms_builtin.json': main,
    'second.json': endpointFile(['dave', 'alice']),
    'closed.json': endpointFile(['alice'], { open: false }),
  };
}

const stores: Record<string, (ctx: Mocha.Context) => Promise<{ env: Record<string, string>; prefix?: string }>> = {
  memory: async () => ({ env: {} }),
  sqlite: async () => ({ env: { STORE_URL: `sqlite://${path.join(await makeTempDir('gms-transfer-'), 'sessions.sqlite')}` } }),
  redis: async (ctx) => {
    await requireRedis(ctx);
    const prefix = uniquePrefix('transfer');
    return { env: { STORE_URL: SHARED_REDIS_URL, STORE_PREFIX: prefix }, prefix };
  },
};

for (const [store, setUp] of Object.entries(stores)) {
  describe(`transfer and conference (${store} store)`, function () {
    this.timeout(20_000);
    let gw: TestGateway;
    let prefix: string | undefined;
    let alice: AgentClient, bob: AgentClient, carol: AgentClient, sam: AgentClient, dave: AgentClient;

    before(async function () {
      const chosen = await setUp(this);
      prefix = chosen.prefix;
      gw = await startTestGateway({ endpoints: endpoints(), env: chosen.env });
      [alice, bob, carol, sam, dave] = ['alice', 'bob', 'carol', 'sam', 'dave'].map((id) => agentClient(gw, id));
    });
    after(async () => {
      await gw?.close();
      if (prefix) await dropPrefix(prefix);
    });

    /** A customer's chat accepted by `agent`, the customer having read everything so far. */
    const acceptedBy = async (agent: AgentClient): Promise<{ customer: CustomerChat; id: string }> => {
      const customer = await startCustomerChat(gw, { start: { subject: 'Card', userData: 'x' }, headers: {} });
      const id = customer.start.body.chatSessionId as string;
      expect((await agent.post(`/chats/${id}/accept`)).status).to.equal(200);
      await customer.call('refresh');
      return { customer, id };
    };
    const mine = async (agent: AgentClient): Promise<string[]> =>
      ((await agent.get('/chats?state=mine')).body.chats as { chatSessionId: string }[]).map((c) => c.chatSessionId);
    const waiting = async (agent: AgentClient): Promise<string[]> =>
      ((await agent.get('/chats?state=waiting')).body.chats as { chatSessionId: string }[]).map((c) => c.chatSessionId);
    const shown = (reply: Reply): string[][] =>
      (reply.body.transcriptToShow as Wire[]).map(([type, nickname, , , party]) => [type, nickname, party]);

    it('a transfer to another agent: the customer gets Left and Joined in one refresh answer, the new agent holds the chat', async () => {
      const { customer, id } = await acceptedBy(alice);
      await alice.post(`/chats/${id}/send`, { message: 'Let me pass you to Bob' });
      await customer.call('refresh');
      const moved = await alice.post(`/chats/${id}/transfer`, { agentId: 'bob' });
      expect(moved.status).to.equal(200);
      expect(moved.body.agents).to.deep.equal([{ id: 'bob', nickname: 'Bob', partyType: 'AGENT', silent: false }]);
      expect(moved.body.state).to.equal('connected');

      const seen = await customer.call('refresh');
      expect(seen.body.chatIxnState).to.equal('CONNECTED');
      expect(shown(seen)).to.deep.equal([
        ['Notice.Left', 'Alice', 'AGENT'],
        ['Notice.Joined', 'Bob', 'AGENT'],
      ]);
      expect(await mine(alice)).not.to.include(id);
      expect(await mine(bob)).to.include(id);
      expect((await alice.get('/status')).body.chats).to.equal(0);
      expect((await bob.get('/status')).body.chats).to.equal(1);
      // The old agent can no longer write; the new one can, and the transcript is whole.
      expect((await alice.post(`/chats/${id}/send`, { message: 'x' })).status).to.equal(403);
      expect((await bob.post(`/chats/${id}/send`, { message: 'Hi, Bob here' })).status).to.equal(200);
      const view = (await bob.get(`/chats/${id}`)).body;
      expect(view.events.map((e: { type: string; nickname: string }) => `${e.type} ${e.nickname}`)).to.deep.equal([
        'Notice.Joined Ann Lee',
        'Notice.Joined Alice',
        'Message.Text Alice',
        'Notice.Left Alice',
        'Notice.Joined Bob',
        'Message.Text Bob',
      ]);
      expect(view.userData).to.include({ userData: 'x' });
      await bob.post(`/chats/${id}/leave`);
      expect((await customer.call('refresh')).body.chatIxnState).to.equal('DISCONNECTED');
    });

    it('a transfer back to the queue: the chat waits again with its transcript and data, and another agent accepts it', async () => {
      const { customer, id } = await acceptedBy(alice);
      await customer.call('send', { message: 'Still there?' });
      const queued = await alice.post(`/chats/${id}/transfer`, { endpoint: 'gms_builtin' });
      expect(queued.status).to.equal(200);
      expect(queued.body.state).to.equal('waiting');
      expect(queued.body.agents).to.deep.equal([]);
      const list = (await bob.get('/chats?state=waiting')).body.chats as Array<Record<string, unknown>>;
      const entry = list.find((c) => c.chatSessionId === id)!;
      expect(entry).to.include({ nickname: 'Ann Lee', subject: 'Card', endpoint: 'gms_builtin' });
      expect(entry.userData).to.include({ userData: 'x' });
      expect(Date.parse(entry.waitingSince as string)).to.be.greaterThan(Date.parse(customer.start.body.startedAt as string));
      expect(await mine(alice)).not.to.include(id);

      const left = await customer.call('refresh');
      expect(left.body.chatIxnState).to.equal('CONNECTED');
      expect(shown(left).at(-1)).to.deep.equal(['Notice.Left', 'Alice', 'AGENT']);
      expect((await bob.post(`/chats/${id}/accept`)).status).to.equal(200);
      expect(await waiting(bob)).not.to.include(id);
      expect(shown(await customer.call('refresh'))).to.deep.equal([['Notice.Joined', 'Bob', 'AGENT']]);
      expect((await bob.get(`/chats/${id}`)).body.events.some((e: { text: string }) => e.text === 'Still there?')).to.equal(true);
      await bob.post(`/chats/${id}/leave`);
    });

    it("a transfer to another endpoint's queue: the chat is that endpoint's now", async () => {
      const { id } = await acceptedBy(alice);
      expect((await alice.post(`/chats/${id}/transfer`, { endpoint: 'second' })).status).to.equal(200);
      expect(await waiting(dave)).to.include(id);
      expect(await waiting(bob)).not.to.include(id);
      expect((await bob.post(`/chats/${id}/accept`)).status).to.equal(403);
      expect((await dave.post(`/chats/${id}/accept`)).status).to.equal(200);
      await dave.post(`/chats/${id}/leave`);
    });

    it('refuses transfers it cannot do, each with a clear error and nothing changed', async () => {
      const { customer, id } = await acceptedBy(alice);
      const refusals: Array<[Record<string, string>, number, string]> = [
        [{}, 400, "Give either 'agentId' (an agent to transfer to) or 'endpoint' (a queue)."],
        [
          { agentId: 'bob', endpoint: 'gms_builtin' },
          400,
          "Give either 'agentId' (an agent to transfer to) or 'endpoint' (a queue).",
        ],
        [{ agentId: 'alice' }, 400, 'You cannot transfer a chat to, or invite, yourself.'],
        [{ agentId: 'nobody' }, 400, "No agent 'nobody' serves the endpoint 'gms_builtin' of this chat."],
        [{ agentId: 'dave' }, 400, "No agent 'dave' serves the endpoint 'gms_builtin' of this chat."],
        [{ endpoint: 'nowhere' }, 400, "There is no endpoint 'nowhere'."],
        [{ endpoint: 'closed' }, 409, "The endpoint 'closed' is closed: its queue takes no chats."],
      ];
      for (const [body, status, message] of refusals) {
        const reply = await alice.post(`/chats/${id}/transfer`, body);
        expect([reply.status, reply.body.message], JSON.stringify(body)).to.deep.equal([status, message]);
      }
      // Not ready, then full.
      await bob.post('/status', { ready: 'false' });
      const notReady = await alice.post(`/chats/${id}/transfer`, { agentId: 'bob' });
      expect([notReady.status, notReady.body]).to.deep.equal([
        409,
        { exception: 'Conflict', message: 'Bob is set as not ready and takes no chats now.' },
      ]);
      await bob.post('/status', { ready: 'true' });
      const held = await acceptedBy(carol);
      const full = await alice.post(`/chats/${id}/transfer`, { agentId: 'carol' });
      expect([full.status, full.body.message]).to.deep.equal([
        409,
        'Carol already holds 1 chats, the most they may hold at once.',
      ]);
      // Someone not in the chat cannot transfer it.
      const stranger = await bob.post(`/chats/${id}/transfer`, { agentId: 'carol' });
      expect([stranger.status, stranger.body.exception]).to.deep.equal([409, 'Conflict']);
      expect(shown(await customer.call('refresh'))).to.deep.equal([]);
      expect(await mine(alice)).to.include(id);
      await carol.post(`/chats/${held.id}/leave`);
      await alice.post(`/chats/${id}/leave`);
    });

    it('of two transfers of one chat at once, exactly one wins; the other gets 409 saying the chat moved on', async () => {
      for (let round = 0; round < 3; round++) {
        const { customer, id } = await acceptedBy(alice);
        const [toBob, toQueue] = await Promise.all([
          alice.post(`/chats/${id}/transfer`, { agentId: 'bob' }),
          alice.post(`/chats/${id}/transfer`, { endpoint: 'gms_builtin' }),
        ]);
        expect([toBob.status, toQueue.status].sort()).to.deep.equal([200, 409]);
        const lost = toBob.status === 409 ? toBob : toQueue;
        expect(lost.body).to.deep.equal({
          exception: 'Conflict',
          message: 'You are no longer in this chat: it was transferred, or you left it.',
        });
        const bobHolds = (await mine(bob)).includes(id);
        const queued = (await waiting(bob)).includes(id);
        expect([bobHolds, queued]).to.deep.equal(toBob.status === 200 ? [true, false] : [false, true]);
        expect(await mine(alice)).not.to.include(id);
        // The customer saw Alice leave once.
        const lefts = shown(await customer.call('refresh')).filter(([type]) => type === 'Notice.Left');
        expect(lefts).to.deep.equal([['Notice.Left', 'Alice', 'AGENT']]);
        await customer.call('disconnect');
        if (bobHolds) await bob.post(`/chats/${id}/leave`);
      }
    });

    it('of two chats transferred at once to an agent with one place left, exactly one goes through', async () => {
      const one = await acceptedBy(alice);
      const two = await acceptedBy(bob);
      const replies = await Promise.all([
        alice.post(`/chats/${one.id}/transfer`, { agentId: 'carol' }),
        bob.post(`/chats/${two.id}/transfer`, { agentId: 'carol' }),
      ]);
      expect(replies.map((r) => r.status).sort()).to.deep.equal([200, 409]);
      expect((await carol.get('/status')).body.chats).to.equal(1);
      for (const c of [one, two]) await c.customer.call('disconnect');
      for (const agent of [alice, bob, carol]) for (const id of await mine(agent)) await agent.post(`/chats/${id}/leave`);
    });

    it('a transfer while the customer leaves: either order, the chat ends once, out of every queue, held by one agent', async () => {
      for (let round = 0; round < 4; round++) {
        const { customer, id } = await acceptedBy(alice);
        const target: Record<string, string> = round % 2 === 0 ? { agentId: 'bob' } : { endpoint: 'gms_builtin' };
        const [moved, gone] = await Promise.all([alice.post(`/chats/${id}/transfer`, target), customer.call('disconnect')]);
        expect(gone.status).to.equal(200);
        expect([200, 409]).to.include(moved.status);
        if (moved.status === 409) expect(moved.body.message).to.equal('The chat has ended: it can no longer be transferred.');
        const view = (await alice.get(`/chats/${id}`)).body;
        expect(view.state).to.equal('ended');
        expect(await waiting(bob)).not.to.include(id);
        const holders = [(await mine(alice)).includes(id), (await mine(bob)).includes(id)];
        // Whoever holds it now closes it; a chat transferred to the queue before the customer left is held by no one.
        if (moved.status === 409) expect(holders).to.deep.equal([true, false]);
        else expect(holders).to.deep.equal('agentId' in target ? [false, true] : [false, false]);
        const lefts = view.events.filter(
          (e: { type: string; partyType: string }) => e.type === 'Notice.Left' && e.partyType === 'CLIENT',
        );
        expect(lefts).to.have.length(1);
        for (const [agent, holds] of [
          [alice, holders[0]],
          [bob, holders[1]],
        ] as const)
          if (holds) expect((await agent.post(`/chats/${id}/leave`)).status).to.equal(200);
        expect((await alice.get('/status')).body.chats).to.equal(0);
        expect((await bob.get('/status')).body.chats).to.equal(0);
      }
    });

    it('a conference: a second agent invited; one leaving is a Left for them only; the chat ends with the last', async () => {
      const { customer, id } = await acceptedBy(alice);
      const invited = await alice.post(`/chats/${id}/invite`, { agentId: 'bob' });
      expect(invited.status).to.equal(200);
      expect(invited.body.agents.map((a: { id: string }) => a.id)).to.deep.equal(['alice', 'bob']);
      expect(shown(await customer.call('refresh'))).to.deep.equal([['Notice.Joined', 'Bob', 'AGENT']]);
      expect((await bob.post(`/chats/${id}/send`, { message: 'Bob here too' })).status).to.equal(200);
      expect((await alice.post(`/chats/${id}/invite`, { agentId: 'bob' })).status).to.equal(409);
      // Alice cannot put a chat others are in back in the queue.
      const queue = await alice.post(`/chats/${id}/transfer`, { endpoint: 'gms_builtin' });
      expect([queue.status, queue.body.message]).to.deep.equal([
        409,
        'Others are still in this chat: leave it instead of transferring it to a queue.',
      ]);
      expect((await alice.post(`/chats/${id}/leave`)).status).to.equal(200);
      const afterAlice = await customer.call('refresh');
      expect(afterAlice.body.chatIxnState).to.equal('CONNECTED');
      expect(shown(afterAlice)).to.deep.equal([
        ['Message.Text', 'Bob', 'AGENT'],
        ['Notice.Left', 'Alice', 'AGENT'],
      ]);
      expect((await bob.get(`/chats/${id}`)).body.state).to.equal('connected');
      await bob.post(`/chats/${id}/leave`);
      expect((await customer.call('refresh')).body.chatIxnState).to.equal('DISCONNECTED');
    });

    it('a silent supervisor: the customer (v1 and v2) sees nothing of them; they may only whisper; whispers reach agents only', async () => {
      const { customer, id } = await acceptedBy(alice);
      const joined = await sam.post(`/chats/${id}/join`, { silent: 'true' });
      expect(joined.status).to.equal(200);
      expect(joined.body.agents).to.deep.include({ id: 'sam', nickname: 'Sam', partyType: 'SUPERVISOR', silent: true });
      const loud = await sam.post(`/chats/${id}/send`, { message: 'hello' });
      expect([loud.status, loud.body.exception]).to.deep.equal([403, 'Forbidden']);
      expect((await sam.post(`/chats/${id}/typing`, { typing: 'true' })).status).to.equal(200);
      expect((await sam.post(`/chats/${id}/whisper`, { message: 'Offer the refund' })).status).to.equal(200);
      expect((await alice.post(`/chats/${id}/whisper`, { message: 'OK' })).status).to.equal(200);
      expect(shown(await customer.call('refresh'))).to.deep.equal([]);
      const events = (await alice.get(`/chats/${id}`)).body.events as Array<Record<string, string>>;
      expect(events.slice(-4).map((e) => [e.type, e.nickname, e.partyType, e.visibility])).to.deep.equal([
        ['Notice.Joined', 'Sam', 'SUPERVISOR', 'agents'],
        ['Notice.TypingStarted', 'Sam', 'SUPERVISOR', 'agents'],
        ['Message.Text', 'Sam', 'SUPERVISOR', 'agents'],
        ['Message.Text', 'Alice', 'AGENT', 'agents'],
      ]);
      // Only supervisors come in on their own, and only supervisors come in silently.
      expect((await bob.post(`/chats/${id}/join`)).status).to.equal(403);
      const silentAgent = await alice.post(`/chats/${id}/invite`, { agentId: 'bob', silent: 'true' });
      expect([silentAgent.status, silentAgent.body.message]).to.deep.equal([
        400,
        'Bob is not a supervisor: only supervisors join silently.',
      ]);
      // The last agent the customer sees leaving ends the chat, the silent supervisor still in.
      await alice.post(`/chats/${id}/leave`);
      const end = await customer.call('refresh');
      expect(end.body.chatIxnState).to.equal('DISCONNECTED');
      expect(shown(end)).to.deep.equal([['Notice.Left', 'Alice', 'AGENT']]);
      expect((await sam.get(`/chats/${id}`)).body.state).to.equal('ended');
      await sam.post(`/chats/${id}/leave`);

      // A v2 customer: no message, no participant for the silent supervisor or a whisper.
      const v2 = await startV2Chat(gw);
      await alice.post(`/chats/${v2.chatId}/accept`);
      await sam.post(`/chats/${v2.chatId}/join`, { silent: 'true' });
      await sam.post(`/chats/${v2.chatId}/whisper`, { message: 'psst' });
      await alice.post(`/chats/${v2.chatId}/send`, { message: 'Hello' });
      const refreshed = await v2.call('refresh', { transcriptPosition: '1' });
      const messages = refreshed.body.messages as Array<{ type: string; from: { nickname: string; type: string } }>;
      expect(messages.map((m) => `${m.type} ${m.from.nickname}`)).to.deep.equal([
        'ParticipantJoined Ann',
        'ParticipantJoined Alice',
        'Message Alice',
      ]);
      await alice.post(`/chats/${v2.chatId}/leave`);
      await sam.post(`/chats/${v2.chatId}/leave`);
    });

    it('a supervisor invited to be seen: Joined as SUPERVISOR for the customer, and may write', async () => {
      const { customer, id } = await acceptedBy(alice);
      expect((await alice.post(`/chats/${id}/invite`, { agentId: 'sam' })).status).to.equal(200);
      expect((await sam.post(`/chats/${id}/send`, { message: 'Supervisor here' })).status).to.equal(200);
      expect(shown(await customer.call('refresh'))).to.deep.equal([
        ['Notice.Joined', 'Sam', 'SUPERVISOR'],
        ['Message.Text', 'Sam', 'SUPERVISOR'],
      ]);
      // Inviting into a chat that waits is refused: it is accepted first.
      const waitingChat = await startCustomerChat(gw);
      const early = await alice.post(`/chats/${waitingChat.start.body.chatSessionId as string}/invite`, { agentId: 'bob' });
      expect(early.status).to.equal(409);
      await waitingChat.call('disconnect');
      await customer.call('disconnect');
      await alice.post(`/chats/${id}/leave`);
      await sam.post(`/chats/${id}/leave`);
    });

    it('GET /agents lists the others of the agent’s endpoints with their readiness and load', async () => {
      const reply = await alice.get('/agents');
      expect(reply.status).to.equal(200);
      const byId = Object.fromEntries((reply.body.agents as Array<{ id: string }>).map((a) => [a.id, a]));
      expect(Object.keys(byId).sort()).to.deep.equal(['bob', 'carol', 'dave', 'sam']);
      expect(byId.carol).to.deep.equal({
        id: 'carol',
        nickname: 'Carol',
        endpoints: ['gms_builtin'],
        supervisor: false,
        ready: true,
        chats: 0,
        maxChats: 1,
      });
      expect(byId.sam).to.include({ supervisor: true });
      expect(byId.dave).to.deep.include({ endpoints: ['second'] });
    });
  });
}

describe('transfer and conference seen by a CometD customer', function () {
  this.timeout(20_000);
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ endpoints: endpoints() });
  });
  after(() => gw.close());

  it('gets the transfer as one push of Left and Joined, and nothing of a silent supervisor or a whisper', async () => {
    const [alice, bob, sam] = ['alice', 'bob', 'sam'].map((id) => agentClient(gw, id));
    const client = new faye.Client(`${gw.url}/genesys/cometd`);
    client.setHeader('gms_user', 'ann-comet');
    const pushes: Array<{ message: { transcriptToShow: Wire[] } }> = [];
    try {
      await client.subscribe('/_genesys', (data) => pushes.push(data as { message: { transcriptToShow: Wire[] } }));
      const customer = await startCustomerChat(gw, {
        headers: { gms_user: 'ann-comet' },
        start: { notify_by: 'comet', userDisplayName: 'Ann' },
      });
      const id = customer.start.body.chatSessionId as string;
      await alice.post(`/chats/${id}/accept`);
      await sam.post(`/chats/${id}/join`, { silent: 'true' });
      await sam.post(`/chats/${id}/whisper`, { message: 'psst' });
      await alice.post(`/chats/${id}/whisper`, { message: 'ok' });
      await alice.post(`/chats/${id}/transfer`, { agentId: 'bob' });
      await bob.post(`/chats/${id}/send`, { message: 'Bob here' });
      await eventually(
        () => pushes.some((p) => p.message.transcriptToShow.some((e) => e[2] === 'Bob here')),
        3000,
        'the last push',
      );
      const seen = pushes.map((p) => p.message.transcriptToShow.map(([type, nickname]) => `${type} ${nickname}`));
      expect(seen).to.deep.equal([
        ['Notice.Joined Ann'],
        ['Notice.Joined Alice'],
        ['Notice.Left Alice', 'Notice.Joined Bob'],
        ['Message.Text Bob'],
      ]);
      await customer.call('disconnect');
    } finally {
      await closeFayeClient(client);
    }
  });
});

describe('transfer back to a queue, pushed to the agents', function () {
  this.timeout(20_000);
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ endpoints: endpoints() });
  });
  after(() => gw.close());

  it('agents are told of the chat waiting again, as of a new one; the one who transferred gets their Left', async () => {
    const alice = agentClient(gw, 'alice');
    const heard: AgentPushMessage[] = [];
    const client = new faye.Client(`${gw.url}/genesys/cometd`, { timeout: 5 });
    client.addExtension({
      outgoing(message, callback) {
        if (message.channel === '/meta/handshake') message.ext = { ...message.ext, token: tokenOf('bob') };
        callback(message);
      },
    });
    try {
      await client.subscribe('/agent/bob', (data) => heard.push(data as AgentPushMessage));
      const customer = await startCustomerChat(gw);
      const id = customer.start.body.chatSessionId as string;
      await eventually(
        () => heard.some((m) => m.type === 'waiting' && m.chat.chatSessionId === id),
        3000,
        'the first announcement',
      );
      await alice.post(`/chats/${id}/accept`);
      await eventually(() => heard.some((m) => m.type === 'dequeued' && m.chatSessionId === id), 3000, 'the dequeue');
      await alice.post(`/chats/${id}/transfer`, { endpoint: 'gms_builtin' });
      await eventually(
        () => heard.filter((m) => m.type === 'waiting' && m.chat.chatSessionId === id).length === 2,
        3000,
        'the chat announced again',
      );
      // And Bob is told of a chat transferred to him, with its events.
      await alice.post(`/chats/${id}/accept`);
      await alice.post(`/chats/${id}/transfer`, { agentId: 'bob' });
      await eventually(
        () =>
          heard.some(
            (m) =>
              m.type === 'events' &&
              m.chatSessionId === id &&
              m.events.some((e) => e.type === 'Notice.Joined' && e.nickname === 'Bob'),
          ),
        3000,
        'the transfer pushed to Bob',
      );
      await customer.call('disconnect');
    } finally {
      await closeFayeClient(client);
    }
  });
});
