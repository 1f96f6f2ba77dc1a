import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { clientAddress, type ProxyTrust } from '../src/http/client-address.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

describe('client address (trusted proxies)', () => {
  describe('clientAddress on a raw IncomingMessage (what the CometD endpoint reads)', () => {
    /** Sends one request with `headers` to a real server and returns what clientAddress made of it. */
    async function seen(proxy: ProxyTrust, headers: Record<string, string | string[]>): Promise<string> {
      let found = '';
      const server = http.createServer((req, res) => {
        found = clientAddress(req, proxy);
        res.end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      await new Promise<void>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, headers }, (res) => res.resume().on('end', resolve)).on('error', reject);
      });
      await new Promise((resolve) => server.close(resolve));
      return found;
    }
    const off: ProxyTrust = { trust: false, ipHeader: 'x-forwarded-for', hops: 1 };
    const oneHop: ProxyTrust = { trust: true, ipHeader: 'x-forwarded-for', hops: 1 };

    it('untrusted (the default): the header is ignored and the peer is the client', async () => {
      expect(await seen(off, { 'X-Forwarded-For': '203.0.113.9' })).to.equal('127.0.0.1');
    });

    it('trusted: the entry the nearest proxy appended is the client, whatever the client wrote before it', async () => {
      expect(await seen(oneHop, { 'X-Forwarded-For': '203.0.113.9' })).to.equal('203.0.113.9');
      expect(await seen(oneHop, { 'X-Forwarded-For': '10.6.6.6, 1.2.3.4,203.0.113.9' })).to.equal('203.0.113.9');
      // Two headers are one list, in order.
      expect(await seen(oneHop, { 'X-Forwarded-For': ['10.6.6.6', '203.0.113.9'] })).to.equal('203.0.113.9');
    });

    it('two trusted hops: the client is the second entry from the end', async () => {
      const twoHops: ProxyTrust = { ...oneHop, hops: 2 };
      expect(await seen(twoHops, { 'X-Forwarded-For': '10.6.6.6, 203.0.113.9, 10.0.0.2' })).to.equal('203.0.113.9');
      expect(await seen(twoHops, { 'X-Forwarded-For': '203.0.113.9' })).to.equal('203.0.113.9');
    });

    it('another header can name the client; a missing or malformed one falls back to the peer', async () => {
      const realIp: ProxyTrust = { ...oneHop, ipHeader: 'x-real-ip' };
      expect(await seen(realIp, { 'X-Real-IP': '2001:db8::7', 'X-Forwarded-For': '203.0.113.9' })).to.equal('2001:db8::7');
      expect(await seen(realIp, { 'X-Forwarded-For': '203.0.113.9' })).to.equal('127.0.0.1');
      expect(await seen(oneHop, { 'X-Forwarded-For': 'not-an-address' })).to.equal('127.0.0.1');
      expect(await seen(oneHop, { 'X-Forwarded-For': ' , ' })).to.equal('127.0.0.1');
    });
  });

  describe('the per-address rate limit behind a proxy', () => {
    const gateways: TestGateway[] = [];
    afterEach(async () => {
      await Promise.all(gateways.splice(0).map((gw) => gw.close()));
    });
    const start = async (env: Record<string, string>): Promise<TestGateway> => {
      const gw = await startTestGateway({ env: { RATE_LIMIT_IP_PER_SEC: '1', RATE_LIMIT_IP_BURST: '2', ...env } });
      gateways.push(gw);
      return gw;
    };
    const create = (gw: TestGateway, forwardedFor: string): Promise<number> =>
      gw.post('/genesys/1/service/request-chat', undefined, { 'X-Forwarded-For': forwardedFor }).then((r) => r.status);

    it('off by default: a spoofed X-Forwarded-For never buys a client a fresh limit', async () => {
      const gw = await start({ RATE_LIMIT_EXEMPT: '' });
      expect(gw.settings.proxy.trust).to.equal(false);
      expect([
        await create(gw, '198.51.100.1'),
        await create(gw, '198.51.100.2'),
        await create(gw, '198.51.100.3'),
      ]).to.deep.equal([200, 200, 429]);
    });

    it('TRUST_PROXY=true: each client behind the proxy has its own limit, and what a client writes in the header is not trusted', async () => {
      // The proxy is on this host: the loopback exemption applies to the client, no longer to the proxy.
      const gw = await start({ TRUST_PROXY: 'true' });
      expect([await create(gw, '198.51.100.1'), await create(gw, '198.51.100.1')]).to.deep.equal([200, 200]);
      // The client wrote another address first; the proxy appended the real one, which is limited.
      expect(await create(gw, '198.51.100.99, 198.51.100.1')).to.equal(429);
      expect(await create(gw, '198.51.100.2')).to.equal(200);
      // A client that claims to be the gateway's own host is still a client.
      expect(await create(gw, '127.0.0.1, 198.51.100.2')).to.equal(200);
      expect(await create(gw, '127.0.0.1, 198.51.100.2')).to.equal(429);
    });

    it('PROXY_HOPS and PROXY_IP_HEADER name the client behind two proxies', async () => {
      const gw = await start({ TRUST_PROXY: 'true', PROXY_HOPS: '2', PROXY_IP_HEADER: 'X-Real-Chain' });
      const call = (chain: string): Promise<number> =>
        gw.post('/genesys/1/service/request-chat', undefined, { 'X-Real-Chain': chain }).then((r) => r.status);
      expect([await call('198.51.100.7, 10.0.0.2'), await call('10.9.9.9, 198.51.100.7, 10.0.0.2')]).to.deep.equal([200, 200]);
      expect(await call('10.8.8.8, 198.51.100.7, 10.0.0.3')).to.equal(429);
      expect(await call('198.51.100.8, 10.0.0.2')).to.equal(200);
    });

    it('a TRUST_PROXY value that is not true or false stops the start with a clear error', async () => {
      let error: unknown;
      try {
        await start({ TRUST_PROXY: 'maybe' });
      } catch (err) {
        error = err;
      }
      expect(String(error)).to.contain('TRUST_PROXY');
    });
  });
});
