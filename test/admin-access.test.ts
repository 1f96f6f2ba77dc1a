// Locking the admin doors: admin bearer tokens with roles on the admin routes and /metrics, no CORS on
// them, loopback-only while no token is configured, and loud start-up warnings for open doors.

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { pino } from 'pino';
import { hashToken } from '../src/endpoints/token-hash.ts';
import { startGateway } from '../src/gateway.ts';
import { readSettings } from '../src/settings.ts';
import { makeTempDir, request, startTestGateway, type TestGateway } from './helpers/gateway.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OPS = 'ops-token-for-admin-tests';
const GRAFANA = 'grafana-token-for-admin-tests';
export const ADMIN_TOKENS = `ops:read-write:${hashToken(OPS)},grafana:read-only:${hashToken(GRAFANA)}`;
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

describe('admin doors: tokens, roles and no CORS', () => {
  let gw: TestGateway;
  afterEach(() => gw?.close());

  it('with ADMIN_TOKENS set, the admin listings and /metrics need a valid token; /healthz stays open', async () => {
    gw = await startTestGateway({ env: { ADMIN_TOKENS } });
    for (const door of [
      '/genesys/1/admin/services',
      '/genesys/1/admin/endpoints',
      '/metrics',
      '/METRICS',
      '/Genesys/1/Admin/Services',
    ]) {
      const none = await gw.get(door);
      expect(none.status, door).to.equal(401);
      expect(none.body).to.deep.equal({
        message: 'Send an admin token as Authorization: Bearer <token>.',
        exception: 'Unauthorized',
      });
      expect(none.headers.get('www-authenticate')).to.equal('Bearer realm="admin"');
      const wrong = await gw.get(door, bearer('not-a-token'));
      expect(wrong.status, door).to.equal(401);
      expect(JSON.stringify(wrong.body)).not.to.include('not-a-token');
      // An agent's token is not an admin token.
      expect((await gw.get(door, bearer('demo-agent-token-change-me'))).status, door).to.equal(401);
      expect((await gw.get(door, bearer(GRAFANA))).status, door).to.equal(200);
      expect((await gw.get(door, bearer(OPS))).status, door).to.equal(200);
    }
    expect((await gw.get('/healthz')).status).to.equal(200);
    // The customer API is not an admin door.
    expect((await gw.post('/genesys/1/service/request-chat')).status).to.equal(200);
  });

  it('the admin doors answer no CORS, to a preflight neither, while the chat API still does', async () => {
    gw = await startTestGateway({ env: { ADMIN_TOKENS } });
    const evil = { origin: 'https://evil.example' };
    for (const door of ['/genesys/1/admin/services', '/genesys/1/admin/endpoints', '/metrics', '/admin/']) {
      const read = await gw.get(door, { ...evil, ...bearer(GRAFANA) });
      expect(read.headers.get('access-control-allow-origin'), door).to.equal(null);
      const preflight = await request(gw.url, 'OPTIONS', door, undefined, {
        ...evil,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      });
      expect(preflight.headers.get('access-control-allow-origin'), door).to.equal(null);
      expect(preflight.headers.get('access-control-allow-headers'), door).to.equal(null);
    }
    const chat = await gw.post('/genesys/1/service/request-chat', {}, evil);
    expect(chat.headers.get('access-control-allow-origin')).to.equal('*');
  });

  it('with no token configured, the admin doors answer callers on this machine only, never through a local proxy', async () => {
    gw = await startTestGateway({ env: { HOST: '0.0.0.0' } });
    expect((await gw.get('/genesys/1/admin/services')).status).to.equal(200);
    expect((await gw.get('/metrics')).status).to.equal(200);
    // A proxy on the same machine connects from loopback on behalf of others: its headers give it away.
    for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip']) {
      const proxied = await gw.get('/genesys/1/admin/services', {
        [header]: header === 'forwarded' ? 'for=203.0.113.9' : '203.0.113.9',
      });
      expect(proxied.status, header).to.equal(401);
      expect(proxied.body.message).to.include('ADMIN_TOKENS');
    }
    // A caller reaching the gateway over a network interface is not on loopback.
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal);
    if (external) {
      const port = new URL(gw.url).port;
      const remote = await request(`http://${external.address}:${port}`, 'GET', '/genesys/1/admin/services');
      expect(remote.status).to.equal(401);
      expect((await request(`http://${external.address}:${port}`, 'GET', '/metrics')).status).to.equal(401);
      expect((await request(`http://${external.address}:${port}`, 'GET', '/healthz')).status).to.equal(200);
    }
  });

  it('refuses to start on a malformed ADMIN_TOKENS entry, without echoing it; reads ADMIN_TOKENS_FILE', async () => {
    const secret = 'ops:read-write:my-plain-secret';
    expect(() => readSettings({ ADMIN_TOKENS: secret }))
      .to.throw(/entry 1 must be <name>:<role>:sha256/)
      .with.property('message')
      .that.does.not.include('my-plain-secret');
    expect(() => readSettings({ ADMIN_TOKENS: `a:owner:${hashToken('x')}` })).to.throw(/read-only or read-write/);
    const dir = await makeTempDir();
    const file = path.join(dir, 'admin-tokens');
    await fs.writeFile(file, `# who:role:hash\nops:read-write:${hashToken(OPS)}\n\ngrafana:read-only:${hashToken(GRAFANA)}\n`);
    const tokens = readSettings({ ADMIN_TOKENS_FILE: file }).adminTokens;
    expect(tokens.map((t) => `${t.name}:${t.role}`)).to.deep.equal(['ops:read-write', 'grafana:read-only']);
    expect(() => readSettings({ ADMIN_TOKENS_FILE: path.join(dir, 'missing') })).to.throw(/cannot read .*missing \(ENOENT\)/);
  });
});

describe('start-up warnings for open doors', () => {
  /** Starts a gateway with a logger writing into an array, and returns the warnings it logged at start. */
  async function startWarnings(env: Record<string, string>, endpointFile: string): Promise<string[]> {
    const dir = await makeTempDir();
    await fs.mkdir(path.join(dir, 'services.d'));
    await fs.mkdir(path.join(dir, 'endpoints.d'));
    await fs.copyFile(endpointFile, path.join(dir, 'endpoints.d', 'gms_builtin.json'));
    const lines: Array<{ level: number; msg: string }> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean))
          lines.push(JSON.parse(line) as { level: number; msg: string });
        done();
      },
    });
    const settings = readSettings({
      PORT: '0',
      HOST: '127.0.0.1',
      STORE_URL: 'memory://',
      SERVICES_DIR: path.join(dir, 'services.d'),
      ENDPOINTS_DIR: path.join(dir, 'endpoints.d'),
      ...env,
    });
    const gateway = await startGateway(settings, pino({ level: 'info' }, sink));
    await gateway.close();
    return lines.filter((l) => l.level === 40).map((l) => l.msg);
  }

  it('warns while the shipped demo agent tokens are live and while no admin token is set', async () => {
    const warnings = await startWarnings({}, path.join(ROOT, 'endpoints.d', 'gms_builtin.json'));
    expect(warnings.find((w) => w.includes('demo agent tokens'))).to.include('gms_builtin/alice, gms_builtin/bob');
    expect(warnings.find((w) => w.includes('ADMIN_TOKENS'))).to.include('answer anyone on this machine');
  });

  it('is quiet once the demo hashes are replaced and an admin token is set', async () => {
    const dir = await makeTempDir();
    const own = path.join(dir, 'own.json');
    await fs.writeFile(own, JSON.stringify({ agents: [{ id: 'alice', nickname: 'Alice', token: hashToken('a-real-secret') }] }));
    expect(await startWarnings({ ADMIN_TOKENS }, own)).to.deep.equal([]);
  });
});
