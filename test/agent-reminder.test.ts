// Agents reminded of a customer waiting for an answer (the service option agentTimeoutNotification), over
// real HTTP with the sweep running every 50 ms and a 1 s reminder time, on a clock the test moves forward
// (the reminder time passes at once instead of being waited out): the agents get one reminder per
// unanswered wait, pushed on their CometD channel; the customer sees nothing of it; an answer (not a
// whisper) ends the wait; on the memory, SQLite and Redis stores.

import path from 'node:path';
import { expect } from 'chai';
import faye from 'faye';
import type { AgentPushMessage } from '../src/endpoints/agent-push.ts';
import { closeFayeClient } from './helpers/faye-client.ts';
import { agentClient, endpointFile, tokenOf, type AgentClient } from './helpers/agent-client.ts';
import { startCustomerChat } from './helpers/chat-client.ts';
import { eventually, makeTempDir, startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { TestClock } from './helpers/test-clock.ts';
import { dropPrefix, requireRedis, SHARED_REDIS_URL, uniquePrefix } from './helpers/redis-nodes.ts';

interface Event {
  type: string;
  nickname: string;
  text: string;
  partyType: string;
  visibility?: string;
}

const stores: Record<string, (ctx: Mocha.Context) => Promise<Record<string, string>>> = {
  memory: async () => ({}),
  sqlite: async () => ({ STORE_URL: `sqlite://${path.join(await makeTempDir('gms-reminder-'), 'sessions.sqlite')}` }),
  redis: async (ctx) => {
    await requireRedis(ctx);
    return { STORE_URL: SHARED_REDIS_URL, STORE_PREFIX: uniquePrefix('reminder') };
  },
};

for (const [store, envOf] of Object.entries(stores)) {
  describe(`agents reminded of an unanswered customer (agentTimeoutNotification, ${store} store)`, function () {
    this.timeout(20_000);
    let gw: TestGateway;
    let alice: AgentClient;
    let clock: TestClock;

    let prefix: string | undefined;

    before(async function () {
      const env = await envOf(this);
      prefix = env.STORE_PREFIX;
      clock = new TestClock();
      gw = await startTestGateway({
        clock,
        services: { 'request-chat.json': { agentTimeoutNotification: 1 }, 'quiet.json': {} },
        endpoints: { 'gms_builtin.json': endpointFile(['alice']) },
        env: { SWEEP_INTERVAL_MS: '50', ...env },
      });
      alice = agentClient(gw, 'alice');
    });
    after(async () => {
      await gw?.close();
      if (prefix) await dropPrefix(prefix);
    });

    const reminders = async (id: string): Promise<Event[]> =>
      ((await alice.get(`/chats/${id}`)).body.events as Event[]).filter((e) => e.type === 'Notice.Custom');

    it('one reminder per unanswered wait, for the agents only; an answer ends the wait, a whisper does not', async () => {
      const heard: AgentPushMessage[] = [];
      const client = new faye.Client(`${gw.url}/genesys/cometd`, { timeout: 5 });
      client.addExtension({
        outgoing(message, callback) {
          if (message.channel === '/meta/handshake') message.ext = { ...message.ext, token: tokenOf('alice') };
          callback(message);
        },
      });
      try {
        await client.subscribe('/agent/alice', (data) => heard.push(data as AgentPushMessage));
        const customer = await startCustomerChat(gw);
        const id = customer.start.body.chatSessionId as string;
        await alice.post(`/chats/${id}/accept`);
        await customer.call('send', { message: 'Where is my order?' });
        await sweptPast(0);
        expect(await reminders(id), 'a reminder before its time').to.deep.equal([]);
        clock.advance(1100);
        await eventually(async () => (await reminders(id)).length > 0, 5000, 'the reminder');
        const [first] = await reminders(id);
        expect(first).to.deep.include({ nickname: 'system', partyType: 'EXTERNAL', visibility: 'agents' });
        expect(first.text).to.match(/^Ann Lee has been waiting \d+ s for an answer\.$/);
        // Pushed to the agent with the chat's other events.
        await eventually(
          () => heard.some((m) => m.type === 'events' && m.events.some((e) => e.type === 'Notice.Custom')),
          3000,
          'the reminder pushed',
        );
        // The customer sees nothing of it.
        const shown = (await customer.call('refresh', { transcriptPosition: '0' })).body.transcriptToShow as string[][];
        expect(shown.map((e) => e[0])).not.to.include('Notice.Custom');

        // Once per wait: a whisper does not answer, and no second reminder comes.
        await alice.post(`/chats/${id}/whisper`, { message: 'looking into it' });
        await customer.call('send', { message: 'Hello?' });
        await sweptPast(1100);
        expect(await reminders(id)).to.have.length(1);

        // An answer ends the wait; the next unanswered message is reminded again.
        await alice.post(`/chats/${id}/send`, { message: 'On its way.' });
        await customer.call('send', { message: 'Thanks, and the invoice?' });
        clock.advance(1100);
        await eventually(async () => (await reminders(id)).length === 2, 5000, 'the second reminder');
        await customer.call('disconnect');
        await alice.post(`/chats/${id}/leave`);
      } finally {
        await closeFayeClient(client);
      }
    });

    it('a chat of a service without the option, or answered in time, is never reminded', async () => {
      const quiet = await startCustomerChat(gw, { service: 'quiet' });
      const answered = await startCustomerChat(gw);
      const ids = [quiet, answered].map((c) => c.start.body.chatSessionId as string);
      for (const id of ids) await alice.post(`/chats/${id}/accept`);
      await quiet.call('send', { message: 'Hi' });
      await answered.call('send', { message: 'Hi' });
      await alice.post(`/chats/${ids[1]}/send`, { message: 'Hello!' });
      await sweptPast(1100);
      for (const id of ids) expect(await reminders(id)).to.deep.equal([]);
      for (const [i, c] of [quiet, answered].entries()) {
        await c.call('disconnect');
        await alice.post(`/chats/${ids[i]}/leave`);
      }
    });

    /** Moves the clock `ms` forward and waits for a sweep after that: what was due by then is done. */
    async function sweptPast(ms: number): Promise<void> {
      clock.advance(ms);
      const due = clock.now();
      await eventually(async () => ((await gw.sweeper.census())?.at ?? 0) > due, 3000, 'a sweep past the reminder time');
    }
  });
}
