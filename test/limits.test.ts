import net from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import { MAX_GMS_USER_LENGTH } from '../src/chat/gms-user.ts';
import { TokenBuckets } from '../src/http/rate-limit.ts';
import { dropPrefix, requireRedis, SHARED_REDIS_URL, uniquePrefix } from './helpers/redis-nodes.ts';
import { startCustomerChat } from './helpers/chat-client.ts';
import { makeTempDir, startTestGateway, type TestGateway } from './helpers/gateway.ts';

describe('limits', () => {
  const gateways: TestGateway[] = [];
  const start = async (options: Parameters<typeof startTestGateway>[0]): Promise<TestGateway> => {
    const gw = await startTestGateway(options);
    gateways.push(gw);
    return gw;
  };
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((gw) => gw.close()));
  });

  describe('body and message size', () => {
    it('a body over BODY_LIMIT_BYTES gets 413 PayloadTooLarge', async () => {
      const gw = await start({ env: { BODY_LIMIT_BYTES: '1000' } });
      const reply = await gw.post('/genesys/1/service/request-chat', { topic: 'x'.repeat(2000) });
      expect(reply.status).to.equal(413);
      expect(reply.body.exception).to.equal('PayloadTooLarge');
    });

    it("a message longer than the service's maxMessageLength gets 400 InvalidParameter", async () => {
      const gw = await start({ services: { 'request-chat.json': { maxMessageLength: 10 } } });
      const chat = await startCustomerChat(gw);
      const reply = await chat.call('send', { message: 'x'.repeat(11) });
      expect(reply.status).to.equal(400);
      expect(reply.body).to.deep.equal({ message: 'The message is longer than 10 characters.', exception: 'InvalidParameter' });
      expect((await chat.call('send', { message: 'x'.repeat(10) })).status).to.equal(200);
    });
  });

  describe('gms_user length', () => {
    it(`a gms_user longer than ${MAX_GMS_USER_LENGTH} characters (the CometD limit) gets 400 InvalidParameter on every chat call`, async () => {
      const gw = await start({});
      const long = { gms_user: 'u'.repeat(MAX_GMS_USER_LENGTH + 1) };
      const created = await gw.post('/genesys/1/service/request-chat', {}, long);
      expect(created.status).to.equal(400);
      expect(created.body).to.deep.equal({
        message: `The gms_user header is longer than ${MAX_GMS_USER_LENGTH} characters.`,
        exception: 'InvalidParameter',
      });
      const chat = await startCustomerChat(gw, { headers: { gms_user: 'u'.repeat(MAX_GMS_USER_LENGTH) } });
      expect(
        (await gw.post(`/genesys/1/service/${chat.id}/ixn/chat/refresh`, {}, { gms_user: 'u'.repeat(8 * 1024) })).status,
      ).to.equal(400);
      expect((await chat.call('refresh')).status).to.equal(200);
    });
  });

  describe('transcript length', () => {
    it('refuses events past MAX_TRANSCRIPT_EVENTS with a clear error, keeps the transcript, and still lets the customer leave', async () => {
      const gw = await start({ env: { MAX_TRANSCRIPT_EVENTS: '3' } });
      const chat = await startCustomerChat(gw); // event 1: the customer joined
      expect((await chat.call('send', { message: 'one' })).status).to.equal(200);
      expect((await chat.call('send', { message: 'two' })).status).to.equal(200);

      const refused = await chat.call('send', { message: 'three' });
      expect(refused.status).to.equal(400);
      expect(refused.body.exception).to.equal('InvalidParameter');
      expect(refused.body.message).to.contain('limit of 3 events');
      expect((await chat.call('startTyping')).status).to.equal(400);

      const transcript = await chat.call('refreshFromStart');
      expect(transcript.body.transcriptToShow.map((e: string[]) => e[2])).to.deep.equal(['has joined the session', 'one', 'two']);

      const left = await chat.call('disconnect');
      expect(left.status).to.equal(200);
      expect(left.body.chatIxnState).to.equal('DISCONNECTED');
    });
  });

  describe('request rate', () => {
    it('a client address over its rate gets 429 RateLimited with Retry-After; health checks are never limited', async () => {
      const gw = await start({ env: { RATE_LIMIT_EXEMPT: '', RATE_LIMIT_IP_PER_SEC: '1', RATE_LIMIT_IP_BURST: '3' } });
      for (let i = 0; i < 3; i++) expect((await gw.post('/genesys/1/service/request-chat')).status).to.equal(200);
      const limited = await gw.post('/genesys/1/service/request-chat');
      expect(limited.status).to.equal(429);
      expect(limited.body.exception).to.equal('RateLimited');
      expect(Number(limited.headers.get('retry-after'))).to.be.at.least(1);
      expect((await gw.get('/healthz')).status).to.equal(200);
    });

    it('one busy service session is limited without slowing down another', async () => {
      const gw = await start({
        env: { RATE_LIMIT_EXEMPT: '', RATE_LIMIT_SESSION_PER_SEC: '1', RATE_LIMIT_SESSION_BURST: '3' },
      });
      const busy = await startCustomerChat(gw); // the start call takes one token
      const calm = await startCustomerChat(gw);
      expect((await busy.call('refresh')).status).to.equal(200);
      expect((await busy.call('refresh')).status).to.equal(200);
      const limited = await busy.call('refresh');
      expect(limited.status).to.equal(429);
      expect(limited.body.exception).to.equal('RateLimited');
      expect(limited.headers.get('retry-after')).to.equal('1');
      // Another spelling of the same id is the same session.
      const spelled = await gw.post(`/genesys/1/service/${encodeURIComponent(busy.id).replace('-', '%2D')}/ixn/chat/refresh`);
      expect(spelled.status).to.equal(429);
      expect((await calm.call('refresh')).status).to.equal(200);
    });

    it('case variants of a chat path share the session limit (the router matches paths case-insensitively)', async () => {
      const gw = await start({
        env: { RATE_LIMIT_EXEMPT: '', RATE_LIMIT_SESSION_PER_SEC: '1', RATE_LIMIT_SESSION_BURST: '3' },
      });
      const busy = await startCustomerChat(gw); // the start call takes one token
      const spellings = [`/genesys/1/service/${busy.id}/IXN/chat/refresh`, `/GENESYS/1/Service/${busy.id}/ixn/CHAT/refresh`];
      for (const spelling of spellings) expect((await gw.post(spelling)).status).to.equal(200);
      for (const spelling of [...spellings, `/genesys/1/service/${busy.id.toUpperCase()}/ixn/chat/refresh`]) {
        const limited = await gw.post(spelling);
        expect(limited.status, spelling).to.equal(429);
        expect(limited.body.exception).to.equal('RateLimited');
      }
    });

    it("a Chat API v2 chat has its own limit too, keyed by its chat id whatever the path's case", async () => {
      const gw = await start({ env: { RATE_LIMIT_EXEMPT: '', RATE_LIMIT_SESSION_PER_SEC: '1', RATE_LIMIT_SESSION_BURST: '2' } });
      const busy = (await gw.post('/genesys/2/chat/request-chat', { nickname: 'Eve' })).body;
      const calm = (await gw.post('/genesys/2/chat/request-chat', { nickname: 'Ann' })).body;
      const refresh = (chat: { chatId: string; userId: string; secureKey: string }, action = 'refresh') =>
        gw.post(`/genesys/2/chat/request-chat/${chat.chatId}/${action}`, { userId: chat.userId, secureKey: chat.secureKey });
      expect((await refresh(busy)).status).to.equal(200);
      expect((await refresh(busy, 'REFRESH')).status).to.equal(200);
      const limited = await refresh(busy, 'Refresh');
      expect(limited.status).to.equal(429);
      expect(limited.body.errors[0].code).to.equal(106);
      expect((await refresh(calm)).status).to.equal(200);
    });

    it('the local host is not limited by default, so local tools and benchmarks run at full speed', async () => {
      const gw = await start({});
      const chat = await startCustomerChat(gw);
      const statuses = await Promise.all(Array.from({ length: 250 }, () => chat.call('refresh')));
      expect(statuses.filter((r) => r.status !== 200)).to.have.length(0);
    });

    it('keeps memory bounded: idle buckets are forgotten and the number of keys is capped', () => {
      let now = 0;
      const buckets = new TokenBuckets({ perSecond: 10, burst: 20 }, 1000, () => now);
      for (let i = 0; i < 10_000; i++) buckets.take(`client-${i}`);
      expect(buckets.size).to.equal(1000);
      now += 2000; // every bucket has refilled: the next take forgets them
      buckets.take('late');
      expect(buckets.size).to.equal(1);
      for (let i = 0; i < 20; i++) expect(buckets.take('late-burst')).to.equal(0);
      expect(buckets.take('late-burst')).to.equal(1);
    });
  });

  describe('concurrent chats per service', () => {
    it('a service at its maxChats answers 503 to new sessions until one of its chats ends', async () => {
      const gw = await start({ services: { 'request-chat.json': { maxChats: 2 }, 'other.json': {} } });
      const first = await startCustomerChat(gw);
      await startCustomerChat(gw);
      const full = await gw.post('/genesys/1/service/request-chat');
      expect(full.status).to.equal(503);
      expect(full.body.exception).to.equal('ServiceUnavailable');
      expect((await gw.post('/genesys/1/service/other')).status).to.equal(200);

      await first.call('disconnect');
      expect((await gw.post('/genesys/1/service/request-chat')).status).to.equal(200);
    });

    for (const store of ['memory', 'SQLite'] as const) {
      it(`of many sessions created at once, exactly maxChats are admitted (${store} store)`, async () => {
        // On the SQLite file, sessions admitted first are still being written when the later ones are counted.
        const env: Record<string, string> =
          store === 'SQLite' ? { STORE_URL: `sqlite://${path.join(await makeTempDir(), 'sessions.sqlite')}` } : {};
        const gw = await start({ services: { 'request-chat.json': { maxChats: 5 } }, env });
        const replies = await Promise.all(Array.from({ length: 20 }, () => gw.post('/genesys/1/service/request-chat')));
        expect(replies.filter((r) => r.status === 200)).to.have.length(5);
        expect(replies.filter((r) => r.status === 503)).to.have.length(15);
      });
    }

    it('a service file with an invalid maxChats is refused', async () => {
      const gw = await start({ services: { 'request-chat.json': { maxChats: 0 } } });
      expect((await gw.post('/genesys/1/service/request-chat')).body.exception).to.equal('ServiceNotFound');
      expect(gw.services.rejected()[0].problems[0].field).to.contain('maxChats');
    });
  });

  describe('per-address caps on sessions and waiting chats', () => {
    // Behind a trusted proxy each X-Forwarded-For value is one client address (client-address.test.ts).
    const from = (address: string): Record<string, string> => ({ 'X-Forwarded-For': address });
    const attacker = from('198.51.100.66');
    const customer = from('198.51.100.7');

    it('one address cannot fill the queue: past MAX_WAITING_PER_ADDRESS its chats get 429, while other customers still get in', async () => {
      const gw = await start({
        endpoints: { 'gms_builtin.json': { maxWaiting: 4 } },
        env: { TRUST_PROXY: 'true', MAX_WAITING_PER_ADDRESS: '2', RATE_LIMIT_IP_PER_SEC: '0', RATE_LIMIT_SESSION_PER_SEC: '0' },
      });
      const first = await startCustomerChat(gw, { headers: attacker });
      await startCustomerChat(gw, { headers: attacker });
      for (let i = 0; i < 2; i++) {
        const created = await gw.post('/genesys/1/service/request-chat', {}, attacker);
        expect(created.status).to.equal(200);
        const refused = await gw.post(`/genesys/1/service/${created.body._id}/ixn/chat`, {}, attacker);
        expect(refused.status).to.equal(429);
        expect(refused.body.exception).to.equal('RateLimited');
        expect(refused.body.message).to.contain('2 chats waiting');
      }
      expect((await startCustomerChat(gw, { headers: customer })).start.status).to.equal(200);
      // A chat that leaves the queue frees its place.
      await first.call('disconnect');
      expect((await startCustomerChat(gw, { headers: attacker })).start.status).to.equal(200);
    });

    it('past MAX_SESSIONS_PER_ADDRESS an address gets 429 for new sessions, on Chat API v1 and v2, until one of its chats ends', async () => {
      const gw = await start({ env: { TRUST_PROXY: 'true', MAX_SESSIONS_PER_ADDRESS: '3', RATE_LIMIT_IP_PER_SEC: '0' } });
      const first = await startCustomerChat(gw, { headers: attacker });
      expect((await gw.post('/genesys/1/service/request-chat', {}, attacker)).status).to.equal(200);
      expect((await gw.post('/genesys/2/chat/request-chat', { nickname: 'Eve' }, attacker)).status).to.equal(200);
      const refused = await gw.post('/genesys/1/service/request-chat', {}, attacker);
      expect(refused.status).to.equal(429);
      expect(refused.body).to.deep.equal({
        message: 'Your address already holds 3 open chat sessions; end one, or try again once one has expired.',
        exception: 'RateLimited',
      });
      expect((await gw.post('/genesys/2/chat/request-chat', { nickname: 'Eve' }, attacker)).status).to.equal(429);
      expect((await gw.post('/genesys/1/service/request-chat', {}, customer)).status).to.equal(200);
      await first.call('disconnect');
      expect((await gw.post('/genesys/1/service/request-chat', {}, attacker)).status).to.equal(200);
    });

    it('of many chats started at once from one address, exactly MAX_WAITING_PER_ADDRESS wait', async () => {
      const gw = await start({ env: { TRUST_PROXY: 'true', MAX_WAITING_PER_ADDRESS: '3', RATE_LIMIT_IP_PER_SEC: '0' } });
      const replies = await Promise.all(
        Array.from({ length: 12 }, () => gw.post('/genesys/2/chat/request-chat', { nickname: 'Eve' }, attacker)),
      );
      expect(replies.filter((r) => r.status === 200)).to.have.length(3);
      expect(replies.filter((r) => r.status === 429)).to.have.length(9);
    });

    it('two gateway nodes on one Redis share the count: an address capped on one node is capped on the other', async function () {
      await requireRedis(this);
      const prefix = uniquePrefix('caps');
      const env = {
        STORE_URL: SHARED_REDIS_URL,
        STORE_PREFIX: prefix,
        TRUST_PROXY: 'true',
        MAX_WAITING_PER_ADDRESS: '2',
        RATE_LIMIT_IP_PER_SEC: '0',
      };
      try {
        const nodeA = await start({ env });
        const nodeB = await start({ env });
        expect((await startCustomerChat(nodeA, { headers: attacker })).start.status).to.equal(200);
        expect((await startCustomerChat(nodeB, { headers: attacker })).start.status).to.equal(200);
        for (const node of [nodeA, nodeB]) {
          const created = await node.post('/genesys/1/service/request-chat', {}, attacker);
          expect((await node.post(`/genesys/1/service/${created.body._id}/ixn/chat`, {}, attacker)).status).to.equal(429);
        }
        expect((await startCustomerChat(nodeB, { headers: customer })).start.status).to.equal(200);
      } finally {
        await Promise.all(gateways.splice(0).map((gw) => gw.close()));
        await dropPrefix(prefix);
      }
    });

    it("the addresses of RATE_LIMIT_EXEMPT (the gateway's own host by default) are not capped", async () => {
      const gw = await start({ env: { MAX_WAITING_PER_ADDRESS: '1', MAX_SESSIONS_PER_ADDRESS: '1' } });
      for (let i = 0; i < 3; i++) expect((await startCustomerChat(gw)).start.status).to.equal(200);
    });
  });

  describe('HTTP server timeouts', () => {
    it('a client that sends its headers too slowly is disconnected', async () => {
      const gw = await start({ env: { HEADERS_TIMEOUT_MS: '300', REQUEST_TIMEOUT_MS: '600' } });
      const { port } = new URL(gw.url);
      const socket = net.connect(Number(port), '127.0.0.1');
      const began = Date.now();
      socket.write('POST /genesys/1/service/request-chat HTTP/1.1\r\nHost: x\r\n');
      const answer = await new Promise<string>((resolve) => {
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString()));
        socket.on('close', () => resolve(text));
      });
      expect(answer).to.match(/^HTTP\/1\.1 408/);
      expect(Date.now() - began).to.be.below(3000);
    });
  });
});
