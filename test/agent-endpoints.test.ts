// Endpoint files in endpoints.d/: which endpoints take chats, capped or closed, reloaded live, and
// a bad file never takes down a good endpoint.

import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { pushToAgents } from '../src/endpoints/agent-push.ts';
import { loadEndpointFile } from '../src/endpoints/endpoint-file.ts';
import { hashToken } from '../src/endpoints/token-hash.ts';
import { agentClient, endpointFile, tokenOf } from './helpers/agent-client.ts';
import { startCustomerChat } from './helpers/chat-client.ts';
import { eventually, startTestGateway, type Reply, type TestGateway } from './helpers/gateway.ts';

const createSession = (gw: TestGateway, service = 'request-chat') => gw.post(`/genesys/1/service/${service}`);

describe('endpoint files', () => {
  let gw: TestGateway;
  beforeEach(async () => {
    gw = await startTestGateway({
      services: { 'request-chat.json': {}, 'nowhere.json': { endpoint: 'no_such_desk' } },
      endpoints: { 'gms_builtin.json': endpointFile(['alice']) },
    });
  });
  afterEach(() => gw.close());

  it('a service routed to an endpoint no file defines answers 503 saying so', async () => {
    const reply = await createSession(gw, 'nowhere');
    expect(reply.status).to.equal(503);
    expect(reply.body.exception).to.equal('ServiceUnavailable');
    expect(reply.body.message).to.include("'no_such_desk' is not configured");
  });

  it('closing the endpoint in its file turns chats away (503) until it is reopened, without a restart', async () => {
    expect((await createSession(gw)).status).to.equal(200);
    await gw.writeEndpoint('gms_builtin.json', endpointFile(['alice'], { open: false }));
    let closed: Reply | undefined;
    await eventually(
      async () => {
        closed = await createSession(gw);
        return closed.status === 503;
      },
      3000,
      'the endpoint to close',
    );
    expect(closed!.body.message).to.include('closed');
    // The agents of a closed endpoint still work its chats.
    expect((await agentClient(gw, 'alice').get('/chats?state=waiting')).status).to.equal(200);
    await gw.writeEndpoint('gms_builtin.json', endpointFile(['alice'], { open: true }));
    await eventually(async () => (await createSession(gw)).status === 200, 3000, 'the endpoint to reopen');
  });

  it('a full endpoint answers 503 until a waiting chat is taken', async () => {
    await gw.writeEndpoint('gms_builtin.json', endpointFile(['alice'], { maxWaiting: 1 }));
    await eventually(() => gw.endpoints.get('gms_builtin')?.maxWaiting === 1, 3000, 'the cap to load');
    const first = await startCustomerChat(gw);
    const full = await createSession(gw);
    expect(full.status).to.equal(503);
    expect(full.body.message).to.include('full');
    await agentClient(gw, 'alice').post(`/chats/${first.start.body.chatSessionId}/accept`);
    expect((await createSession(gw)).status).to.equal(200);
  });

  it('an invalid file keeps the last good version serving, and its agents keep signing in', async () => {
    await gw.writeEndpoint('gms_builtin.json', {
      open: 'yes',
      agents: [{ id: 'alice', nickname: 'Alice', token: 'plain-text-token' }],
    });
    await eventually(() => gw.endpoints.rejected().length === 1, 3000, 'the bad file to be refused');
    const problems = gw.endpoints.rejected()[0].problems.map((p) => `${p.field}: ${p.reason}`);
    expect(problems).to.include('open: must be boolean');
    expect(problems.some((p) => p.startsWith('agents.0.token:'))).to.equal(true);
    expect((await createSession(gw)).status).to.equal(200);
    expect((await agentClient(gw, 'alice').get('/me')).status).to.equal(200);

    await startCustomerChat(gw);
    const admin = await gw.get('/genesys/1/admin/endpoints');
    expect(admin.body.endpoints).to.deep.equal([
      {
        name: 'gms_builtin',
        file: 'gms_builtin.json',
        loadedAt: admin.body.endpoints[0].loadedAt,
        open: true,
        waiting: 1,
        agents: [{ id: 'alice', nickname: 'Alice' }],
      },
    ]);
    expect(admin.body.rejected[0]).to.include({ file: 'gms_builtin.json', lastGoodServing: true });
    expect(JSON.stringify(admin.body)).not.to.include(hashToken(tokenOf('alice')).slice('sha256:'.length));
  });

  it('adding an agent lets them in at once; removing them shuts them out', async () => {
    const bob = agentClient(gw, 'bob');
    expect((await bob.get('/me')).status).to.equal(401);
    await gw.writeEndpoint('gms_builtin.json', endpointFile(['alice', 'bob']));
    await eventually(async () => (await bob.get('/me')).status === 200, 3000, 'bob to be let in');
    await fs.rm(path.join(gw.endpointsDir, 'gms_builtin.json'));
    await eventually(async () => (await bob.get('/me')).status === 401, 3000, 'bob to be shut out');
    expect((await createSession(gw)).status).to.equal(503);
  });

  it('refuses plain-text tokens, duplicate agents and unknown options, naming the field', () => {
    const agent = { id: 'alice', nickname: 'Alice', token: 'sha256:' + 'a'.repeat(64) };
    const refused = (content: unknown) => {
      const r = loadEndpointFile('/x/gms_builtin.json', JSON.stringify(content));
      return r.ok ? [] : r.problems.map((p) => p.field);
    };
    expect(refused({ agents: [{ ...agent, token: 'secret' }] })).to.deep.equal(['agents.0.token']);
    expect(refused({ agents: [agent, agent] })).to.deep.equal(['agents.1.id']);
    expect(refused({ opne: true })).to.deep.equal(['opne']);
    expect(refused({ maxWaiting: -1 })).to.deep.equal(['maxWaiting']);
    expect(refused({ agents: [agent] })).to.deep.equal([]);
  });

  it('ships a working gms_builtin whose demo agent signs in with the documented token', async () => {
    const shipped = path.resolve('endpoints.d/gms_builtin.json');
    await fs.copyFile(shipped, path.join(gw.endpointsDir, 'gms_builtin.json'));
    await eventually(
      async () => (await agentClient(gw, 'alice', 'demo-agent-token-change-me').get('/me')).status === 200,
      3000,
      'the shipped file',
    );
    const readme = await fs.readFile('README.md', 'utf8');
    expect(readme).to.include('demo-agent-token-change-me');
  });
});

describe('one agent id declared with different tokens in two endpoint files', () => {
  // Two agents, kept fully apart: each token serves only the endpoints that list the id with it.
  let gw: TestGateway;
  const pushed: Array<{ id: string; serves: string[]; endpoint: string }> = [];
  let stopPush: () => void;
  beforeEach(async () => {
    gw = await startTestGateway({
      services: { 'a.json': { endpoint: 'desk_a' }, 'b.json': { endpoint: 'desk_b' } },
      endpoints: {
        'desk_a.json': endpointFile(['alice']),
        'desk_b.json': { agents: [{ id: 'alice', nickname: 'Alice of B', token: hashToken('the-other-alice-token') }] },
      },
    });
    // What the CometD endpoint is handed to publish on agent channels (agent-push.ts, wired in gateway.ts).
    stopPush = pushToAgents({
      hub: gw.hub,
      agents: gw.agents,
      waitingChat: () => Promise.resolve(undefined),
      publish: (agent, message) =>
        pushed.push({
          id: agent.id,
          serves: agent.endpoints,
          endpoint: message.type === 'waiting' ? message.chat.endpoint : message.endpoint,
        }),
      log: gw.log,
    });
  });
  afterEach(async () => {
    stopPush();
    pushed.splice(0);
    await gw.close();
  });

  it('neither sees the other\'s chats: waiting and "mine" listings, REST calls, and pushes', async () => {
    const aliceA = agentClient(gw, 'alice');
    const aliceB = agentClient(gw, 'alice', 'the-other-alice-token');
    expect((await aliceA.get('/me')).body).to.deep.equal({
      id: 'alice',
      nickname: 'Alice',
      endpoints: ['desk_a'],
      supervisor: false,
    });
    expect((await aliceB.get('/me')).body).to.deep.equal({
      id: 'alice',
      nickname: 'Alice of B',
      endpoints: ['desk_b'],
      supervisor: false,
    });

    const inA = (await startCustomerChat(gw, { service: 'a', start: { orderId: 'secret-of-a' } })).start.body
      .chatSessionId as string;
    const inB = (await startCustomerChat(gw, { service: 'b' })).start.body.chatSessionId as string;
    const ids = (r: Reply): string[] => r.body.chats.map((c: { chatSessionId: string }) => c.chatSessionId);
    expect(ids(await aliceA.get('/chats?state=waiting'))).to.deep.equal([inA]);
    expect(ids(await aliceB.get('/chats?state=waiting'))).to.deep.equal([inB]);

    expect((await aliceA.post(`/chats/${inA}/accept`)).status).to.equal(200);
    expect((await aliceA.post(`/chats/${inA}/send`, { message: 'hello from A' })).status).to.equal(200);
    expect(ids(await aliceB.get('/chats?state=mine'))).to.deep.equal([]);
    for (const call of [
      aliceB.get(`/chats/${inA}`),
      aliceB.post(`/chats/${inA}/send`, { message: 'x' }),
      aliceB.post(`/chats/${inA}/leave`),
    ]) {
      expect((await call).status).to.equal(403);
    }

    expect((await aliceB.post(`/chats/${inB}/accept`)).status).to.equal(200);
    // Each listing shows its own chat only, and reading one never drops the other's from the shared list.
    expect(ids(await aliceB.get('/chats?state=mine'))).to.deep.equal([inB]);
    expect(ids(await aliceA.get('/chats?state=mine'))).to.deep.equal([inA]);
    expect(ids(await aliceB.get('/chats?state=mine'))).to.deep.equal([inB]);

    // Each push goes to the agent of the chat's endpoint: the alice whose token serves it, never the other.
    await eventually(() => pushed.some((p) => p.endpoint === 'desk_b'), 3000, 'the pushes of desk_b');
    expect(pushed.filter((p) => p.endpoint === 'desk_a')).not.to.have.length(0);
    for (const p of pushed) expect(p.serves, `a push of ${p.endpoint}`).to.deep.equal([p.endpoint]);
  });

  it('the same id with the same token in two files is one agent serving both endpoints', async () => {
    await gw.writeEndpoint('desk_b.json', endpointFile(['alice']));
    await eventually(async () => (await agentClient(gw, 'alice').get('/me')).body.endpoints.length === 2, 3000, 'the edit');
    expect((await agentClient(gw, 'alice', 'the-other-alice-token').get('/me')).status).to.equal(401);
  });
});
