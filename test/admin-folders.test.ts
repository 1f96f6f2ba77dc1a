// What the admin API does with the folders it writes: a read-only folder (a ConfigMap mount) refuses
// every change with 409 and records nothing, on one node and in a cluster, where a node with such a folder
// keeps its files and still starts; and a name defined by x.json on one node and x.yaml on another gets
// each API change on both, each node keeping its own file in its own format.

import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { parse as parseYaml } from 'yaml';
import { eventually, makeTempDir, request, startTestGateway, type Reply, type TestGateway } from './helpers/gateway.ts';
import { makeReadOnly, skipWithoutReadOnly, type ReadOnly } from './helpers/read-only-folder.ts';
import { dropPrefix, requireRedis, SHARED_REDIS_URL, startNode, uniquePrefix, type GatewayNode } from './helpers/redis-nodes.ts';

const admin = (url: string, method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> =>
  request(url, method, `/genesys/1/admin${p}`, body === undefined ? undefined : JSON.stringify(body), {
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    ...headers,
  });

/** A node's folders: services.d with `services` (text as is, objects as JSON), endpoints.d with gms_builtin. */
async function folders(prefix: string, services: Record<string, unknown>): Promise<string> {
  const dir = await makeTempDir(prefix);
  await fs.mkdir(path.join(dir, 'services.d'));
  await fs.mkdir(path.join(dir, 'endpoints.d'));
  for (const [file, content] of Object.entries(services)) {
    await fs.writeFile(path.join(dir, 'services.d', file), typeof content === 'string' ? content : JSON.stringify(content));
  }
  await fs.writeFile(path.join(dir, 'endpoints.d', 'gms_builtin.json'), '{}');
  return dir;
}

describe('admin API: a read-only services folder (a ConfigMap mount)', function () {
  this.timeout(30_000);
  let gw: TestGateway | undefined;
  let readOnly: ReadOnly | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
    await readOnly?.undo();
    readOnly = undefined;
  });

  it('answers 409 with a clear error to every write, dry runs too, and records and changes nothing', async function () {
    const dir = await folders('gms-admin-ro-', { 'billing.json': { ttl: 600 } });
    const servicesDir = path.join(dir, 'services.d');
    readOnly = await makeReadOnly(servicesDir);
    skipWithoutReadOnly(this, readOnly);
    gw = await startTestGateway({ dir });
    const { etag } = (await admin(gw.url, 'GET', '/services/billing')).body as { etag: string };
    const writes: Array<[string, string, unknown, Record<string, string>]> = [
      ['POST', '/services', { name: 'sales', ttl: 60 }, {}],
      ['POST', '/services?dryRun=true', { name: 'sales', ttl: 60 }, {}],
      ['PUT', '/services/billing', { ttl: 60 }, { 'if-match': etag }],
      ['PATCH', '/services/billing', { ttl: 60 }, { 'if-match': etag }],
      ['PATCH', '/services/billing?dryRun=true', { ttl: 60 }, { 'if-match': '*' }],
      ['DELETE', '/services/billing', undefined, { 'if-match': '*' }],
    ];
    for (const [method, p, body, headers] of writes) {
      const res = await admin(gw.url, method, p, body, headers);
      expect(res.status, `${method} ${p}`).to.equal(409);
      expect(res.body.exception).to.equal('Conflict');
      expect(res.body.message).to.equal(
        `The service folder cannot be written (${readOnly.code}): change services.d where it is deployed from.`,
      );
    }
    expect(gw.services.get('billing')!.ttl).to.equal(600);
    expect(gw.services.get('sales')).to.equal(undefined);
    expect(await fs.readdir(servicesDir)).to.deep.equal(['billing.json']);
    // Nothing was recorded for other nodes: the endpoints folder, writable, takes the first change (r1).
    expect((await admin(gw.url, 'POST', '/endpoints', { name: 'queue2' })).status).to.equal(201);
    const nodes = (await admin(gw.url, 'GET', '/nodes')).body.nodes as Array<{ revision: number }>;
    expect(nodes.map((n) => n.revision)).to.deep.equal([1]);
  });
});

describe('admin API across nodes: read-only folders, and x.json beside x.yaml', function () {
  this.timeout(120_000);
  // One prefix per test: each starts from an empty configuration log.
  const prefixes: string[] = [];
  let nodes: GatewayNode[] = [];
  let readOnly: ReadOnly | undefined;

  before(async function () {
    await requireRedis(this);
  });
  beforeEach(() => void prefixes.push(uniquePrefix('admin-folders')));
  afterEach(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    nodes = [];
    await readOnly?.undo();
    readOnly = undefined;
  });
  after(async () => {
    for (const prefix of prefixes) await dropPrefix(prefix);
  });

  async function node(name: string, dir: string): Promise<GatewayNode> {
    const started = await startNode(name, {
      STORE_URL: SHARED_REDIS_URL,
      STORE_PREFIX: prefixes.at(-1)!,
      SERVICES_DIR: path.join(dir, 'services.d'),
      ENDPOINTS_DIR: path.join(dir, 'endpoints.d'),
      RELOAD_SETTLE_MS: '50',
    });
    nodes.push(started);
    return started;
  }
  const options = async (n: GatewayNode, service: string): Promise<Record<string, unknown> | null> =>
    (await admin(n.url, 'GET', `/services/${service}`)).body?.options as Record<string, unknown> | null;

  it('a node whose services folder is read-only keeps its files as the source, says so once, and starts again', async function () {
    const dirA = await folders('gms-admin-ro-a-', { 'billing.json': { ttl: 600 } });
    const dirB = await folders('gms-admin-ro-b-', { 'billing.json': { ttl: 600 } });
    readOnly = await makeReadOnly(path.join(dirB, 'services.d'));
    skipWithoutReadOnly(this, readOnly);
    const [a, b] = [await node('A', dirA), await node('B', dirB)];
    expect((await admin(a.url, 'PATCH', '/services/billing', { ttl: 60 }, { 'if-match': '*' })).status).to.equal(200);
    expect((await admin(a.url, 'POST', '/services', { name: 'promo' })).status).to.equal(201);
    // B's endpoints folder is writable: a change there reaches it, so B has caught up with the log.
    expect((await admin(a.url, 'POST', '/endpoints', { name: 'queue2' })).status).to.equal(201);
    await eventually(async () => (await admin(b.url, 'GET', '/endpoints/queue2')).status === 200, 3000, 'queue2 on B');
    expect((await options(b, 'billing'))!.ttl).to.equal(600);
    expect((await admin(b.url, 'GET', '/services/promo')).status).to.equal(404);
    const warnings = b.logLines().filter((l) => l.msg.includes('is read-only'));
    expect(warnings).to.have.length(1);
    expect(warnings[0].msg).to.include('its files stay the source on this node');
    // B refuses writes of its own, and a restart after the API changes starts it (the log is not replayed into it).
    expect((await admin(b.url, 'PATCH', '/services/billing', { ttl: 5 }, { 'if-match': '*' })).status).to.equal(409);
    await b.stop();
    const b2 = await node('B', dirB);
    expect((await options(b2, 'billing'))!.ttl).to.equal(600);
    expect((await admin(b2.url, 'GET', '/endpoints/queue2')).status).to.equal(200);
  });

  it('x.json on one node and x.yaml on another: each API change is in force on both, each node keeping its own file and format', async () => {
    const dirA = await folders('gms-admin-ext-a-', { 'x.json': { ttl: 600 } });
    const dirB = await folders('gms-admin-ext-b-', { 'x.yaml': '# deployed by the B team\nttl: 600\n' });
    const [a, b] = [await node('C', dirA), await node('D', dirB)];
    const filesOf = async (dir: string): Promise<string[]> =>
      (await fs.readdir(path.join(dir, 'services.d'))).filter((f) => !f.startsWith('.') && f !== 'request-chat.json');

    expect((await admin(a.url, 'PATCH', '/services/x', { ttl: 60 }, { 'if-match': '*' })).status).to.equal(200);
    await eventually(async () => (await options(b, 'x'))?.ttl === 60, 3000, 'the ttl of A on B');
    expect(await filesOf(dirB)).to.deep.equal(['x.yaml']);
    expect(parseYaml(await fs.readFile(path.join(dirB, 'services.d', 'x.yaml'), 'utf8'))).to.deep.equal({ ttl: 60 });
    expect((await admin(b.url, 'GET', '/services/x')).body.file).to.equal('x.yaml');

    expect((await admin(b.url, 'PATCH', '/services/x', { maxMessageLength: 100 }, { 'if-match': '*' })).status).to.equal(200);
    await eventually(async () => (await options(a, 'x'))?.maxMessageLength === 100, 3000, 'the change of B on A');
    expect(await filesOf(dirA)).to.deep.equal(['x.json']);
    expect(JSON.parse(await fs.readFile(path.join(dirA, 'services.d', 'x.json'), 'utf8'))).to.deep.equal({
      ttl: 60,
      maxMessageLength: 100,
    });

    // A restart keeps it; a delete on either removes the name everywhere.
    await b.stop();
    const b2 = await node('D', dirB);
    expect((await options(b2, 'x'))!.ttl).to.equal(60);
    expect((await admin(a.url, 'DELETE', '/services/x', undefined, { 'if-match': '*' })).status).to.equal(200);
    await eventually(async () => (await admin(b2.url, 'GET', '/services/x')).status === 404, 3000, 'x deleted on B');
    expect(await filesOf(dirA)).to.deep.equal([]);
    expect(await filesOf(dirB)).to.deep.equal([]);
  });
});
