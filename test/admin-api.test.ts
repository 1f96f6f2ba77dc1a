// The admin API through real HTTP: read, create, replace, patch and delete services and endpoints, each
// write validated like a file, written atomically into the folder, guarded by ETag/If-Match, with
// dry-runs, roles and an audit line per change.

import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { agentClient, tokenOf } from './helpers/agent-client.ts';
import { eventually, request, startTestGateway, type Reply, type TestGateway } from './helpers/gateway.ts';
import { capturingLogger, type LogLine } from './helpers/log-lines.ts';
import { hashToken } from '../src/endpoints/token-hash.ts';
import { validate } from '../src/config/validate-cli.ts';

const OPS = 'ops-token-for-admin-api-tests';
const VIEWER = 'viewer-token-for-admin-api-tests';
const ADMIN_TOKENS = `ops:read-write:${hashToken(OPS)},viewer:read-only:${hashToken(VIEWER)}`;

describe('admin API: services and endpoints', function () {
  this.timeout(20_000);
  let gw: TestGateway;
  let audit: () => LogLine[];
  let logText: () => string;

  beforeEach(async () => {
    const captured = capturingLogger();
    audit = () => captured.lines.filter((l) => l.audit !== undefined);
    logText = captured.text;
    gw = await startTestGateway({
      services: { 'request-chat.json': {}, 'billing.json': { ttl: 600, description: 'Bills' } },
      env: { ADMIN_TOKENS },
      log: captured.log,
    });
  });
  afterEach(() => gw.close());

  /** A call of the admin API as `token` (ops by default) with a JSON body. */
  function admin(
    method: string,
    pathname: string,
    body?: unknown,
    headers: Record<string, string> = {},
    token = OPS,
  ): Promise<Reply> {
    return request(gw.url, method, `/genesys/1/admin${pathname}`, body === undefined ? undefined : JSON.stringify(body), {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    });
  }
  const fileText = (file: string): Promise<string> => fs.readFile(path.join(gw.servicesDir, file), 'utf8');

  it('GET one service: the file as written, its ETag, the effective options with defaults', async () => {
    const res = await admin('GET', '/services/billing');
    expect(res.status).to.equal(200);
    expect(res.headers.get('etag'))
      .to.equal(res.body.etag)
      .and.match(/^"[\w-]+"$/);
    expect(res.body).to.deep.include({ name: 'billing', file: 'billing.json', source: { ttl: 600, description: 'Bills' } });
    expect(res.body.options).to.include({ ttl: 600, endpoint: 'gms_builtin', enabled: true, maxMessageLength: 4096 });
    expect((await admin('GET', '/services/nope')).body).to.deep.equal({
      message: "There is no service 'nope'.",
      exception: 'NotFound',
    });
    expect((await admin('GET', '/services/..%2Fetc')).status).to.be.oneOf([400, 404]);
  });

  it('POST creates a service that answers at once, in a file npm run validate accepts as written', async () => {
    const created = await admin('POST', '/services', { name: 'sales', ttl: 120, description: 'Sales desk' });
    expect(created.status).to.equal(201);
    expect(created.headers.get('location')).to.equal('/genesys/1/admin/services/sales');
    expect(created.body).to.deep.include({
      action: 'create',
      name: 'sales',
      file: 'sales.json',
      dryRun: false,
      before: null,
      after: { ttl: 120, description: 'Sales desk' },
    });
    expect(created.body.options).to.include({ ttl: 120, endpoint: 'gms_builtin' });
    // No waiting for the watcher: the very next call reaches the new service.
    expect((await gw.post('/genesys/1/service/sales')).status).to.equal(200);
    const text = await fileText('sales.json');
    expect(JSON.parse(text)).to.deep.equal({ ttl: 120, description: 'Sales desk' });
    expect(created.headers.get('etag')).to.equal((await admin('GET', '/services/sales')).body.etag);
    const out: string[] = [];
    expect(validate([path.join(gw.servicesDir, 'sales.json')], (l) => out.push(l))).to.equal(true);
    expect(out[0]).to.match(/^ok .*sales\.json: service 'sales' \(ttl 120s, endpoint gms_builtin\)$/);
    // No temporary file is left behind (the dotfile is the last API change this node applied).
    expect((await fs.readdir(gw.servicesDir)).filter((f) => f !== '.gms-applied-revision').sort()).to.deep.equal([
      'billing.json',
      'request-chat.json',
      'sales.json',
    ]);

    const again = await admin('POST', '/services', { name: 'sales' });
    expect(again.status).to.equal(409);
    expect(again.body.exception).to.equal('Conflict');
  });

  it('PUT replaces only with the current ETag: 428 without If-Match, 412 with a stale one, and creates a new name', async () => {
    const read = await admin('GET', '/services/billing');
    const missing = await admin('PUT', '/services/billing', { ttl: 30 });
    expect(missing.status).to.equal(428);
    expect(missing.body.exception).to.equal('PreconditionRequired');
    expect(missing.headers.get('etag')).to.equal(read.body.etag);

    const first = await admin('PUT', '/services/billing', { ttl: 30 }, { 'if-match': read.body.etag });
    expect(first.status).to.equal(200);
    expect(first.body.changes).to.deep.equal([
      { option: 'description', before: 'Bills' },
      { option: 'ttl', before: 600, after: 30 },
    ]);
    expect(gw.services.get('billing')!.ttl).to.equal(30);
    // A second admin still holding the old ETag cannot overwrite the first one's change unknowingly.
    const stale = await admin('PUT', '/services/billing', { ttl: 45 }, { 'if-match': read.body.etag });
    expect(stale.status).to.equal(412);
    expect(stale.body).to.include({ exception: 'PreconditionFailed', etag: first.body.etag });
    expect(JSON.parse(await fileText('billing.json'))).to.deep.equal({ ttl: 30 });
    // `If-Match: *` is any version; If-None-Match: * is create-only.
    expect((await admin('PUT', '/services/billing', { ttl: 45 }, { 'if-match': '*' })).status).to.equal(200);
    expect((await admin('PUT', '/services/billing', { ttl: 50 }, { 'if-none-match': '*' })).status).to.equal(412);

    const fresh = await admin('PUT', '/services/fresh', { ttl: 10 });
    expect(fresh.status).to.equal(201);
    expect((await gw.post('/genesys/1/service/fresh')).status).to.equal(200);
    expect((await admin('PUT', '/services/ghost', { ttl: 10 }, { 'if-match': '"whatever"' })).status).to.equal(412);
  });

  it('of two admins writing with the same ETag at once, exactly one wins and the other gets 412', async () => {
    const { etag } = (await admin('GET', '/services/billing')).body;
    const replies = await Promise.all(
      [10, 20, 30, 40].map((ttl) => admin('PATCH', '/services/billing', { ttl }, { 'if-match': etag })),
    );
    expect(replies.map((r) => r.status).sort()).to.deep.equal([200, 412, 412, 412]);
    const winner = replies.find((r) => r.status === 200)!;
    expect(JSON.parse(await fileText('billing.json')).ttl).to.equal(winner.body.after.ttl);
  });

  it('PATCH applies a JSON merge patch to the file: null removes an option', async () => {
    const { etag } = (await admin('GET', '/services/billing')).body;
    const patched = await admin(
      'PATCH',
      '/services/billing',
      { maxChats: 5, description: null },
      { 'if-match': etag, 'content-type': 'application/merge-patch+json' },
    );
    expect(patched.status).to.equal(200);
    expect(patched.body.after).to.deep.equal({ ttl: 600, maxChats: 5 });
    expect(JSON.parse(await fileText('billing.json'))).to.deep.equal({ ttl: 600, maxChats: 5 });
    expect(gw.services.get('billing')).to.include({ maxChats: 5 }).and.not.have.property('description');
    expect((await admin('PATCH', '/services/nope', { ttl: 5 }, { 'if-match': '*' })).status).to.equal(404);
  });

  it('DELETE removes the file and the service at once', async () => {
    const { etag } = (await admin('GET', '/services/billing')).body;
    expect((await admin('DELETE', '/services/billing')).status).to.equal(428);
    const deleted = await admin('DELETE', '/services/billing', undefined, { 'if-match': etag });
    expect(deleted.status).to.equal(200);
    expect(deleted.body).to.deep.include({ action: 'delete', before: { ttl: 600, description: 'Bills' }, after: null });
    expect((await gw.post('/genesys/1/service/billing')).status).to.equal(404);
    expect((await fs.readdir(gw.servicesDir)).filter((f) => f !== '.gms-applied-revision').sort()).to.deep.equal([
      'request-chat.json',
    ]);
    expect((await admin('DELETE', '/services/billing', undefined, { 'if-match': '*' })).status).to.equal(404);
  });

  it('a write that fails validation is 400 with the problems the file would get, and changes nothing', async () => {
    const before = await fileText('billing.json');
    const { etag } = (await admin('GET', '/services/billing')).body;
    const bad = await admin('PUT', '/services/billing', { ttl: 'soon', colour: 'red' }, { 'if-match': etag });
    expect(bad.status).to.equal(400);
    expect(bad.body.exception).to.equal('InvalidParameter');
    expect(bad.body.problems).to.deep.equal([
      { field: 'colour', reason: 'unknown option (check its spelling)' },
      { field: 'ttl', reason: 'must be integer' },
    ]);
    // The same words as npm run validate prints for the same file.
    const probe = path.join(gw.dir, 'probe');
    await fs.mkdir(probe);
    await fs.writeFile(path.join(probe, 'billing.json'), JSON.stringify({ ttl: 'soon', colour: 'red' }));
    const out: string[] = [];
    validate([probe], (l) => out.push(l));
    for (const p of bad.body.problems) expect(out.join('\n')).to.include(`billing.json: ${p.field}: ${p.reason}`);

    expect(await fileText('billing.json')).to.equal(before);
    expect((await admin('PATCH', '/services/billing', { ttl: 0 }, { 'if-match': etag })).body.problems).to.deep.equal([
      { field: 'ttl', reason: 'must be >= 1' },
    ]);
    const polluted = await request(gw.url, 'PUT', '/genesys/1/admin/services/billing', '{"__proto__": {"ttl": 5}}', {
      authorization: `Bearer ${OPS}`,
      'content-type': 'application/json',
      'if-match': '*',
    });
    expect(polluted.body.problems).to.deep.equal([{ field: '__proto__', reason: 'unknown option (check its spelling)' }]);
    expect(({} as Record<string, unknown>).ttl).to.equal(undefined);
    // Bodies that are not a JSON object of options.
    for (const [body, type] of [
      ['[1]', 'application/json'],
      ['ttl=5', 'application/x-www-form-urlencoded'],
      ['{"ttl":', 'application/json'],
      ['', 'application/json'],
    ] as const) {
      const res = await request(gw.url, 'PUT', '/genesys/1/admin/services/billing', body, {
        authorization: `Bearer ${OPS}`,
        'content-type': type,
        'if-match': '*',
      });
      expect(res.status, body).to.be.oneOf([400, 415]);
      expect(res.body.exception, body).to.be.oneOf(['InvalidParameter', 'UnsupportedMediaType']);
    }
    const deep = '{"description":' + '['.repeat(40) + ']'.repeat(40) + '}';
    expect(
      (
        await request(gw.url, 'PUT', '/genesys/1/admin/services/billing', deep, {
          authorization: `Bearer ${OPS}`,
          'content-type': 'application/json',
          'if-match': '*',
        })
      ).status,
    ).to.equal(400);
    expect(await fileText('billing.json')).to.equal(before);
  });

  it('?dryRun=true answers what would change and writes nothing', async () => {
    const before = await fileText('billing.json');
    const { etag } = (await admin('GET', '/services/billing')).body;
    const dry = await admin('PATCH', '/services/billing?dryRun=true', { ttl: 60 }, { 'if-match': etag });
    expect(dry.status).to.equal(200);
    expect(dry.body).to.deep.include({
      dryRun: true,
      action: 'patch',
      changes: [{ option: 'ttl', before: 600, after: 60 }],
      options: null,
    });
    expect(await fileText('billing.json')).to.equal(before);
    expect(gw.services.get('billing')!.ttl).to.equal(600);
    // The dry run checks everything a write would: validation, preconditions.
    expect((await admin('PATCH', '/services/billing?dryRun=true', { ttl: -1 }, { 'if-match': etag })).status).to.equal(400);
    expect((await admin('PATCH', '/services/billing?dryRun=true', { ttl: 60 }, { 'if-match': '"old"' })).status).to.equal(412);
    const create = await admin('POST', '/services?dryRun=true', { name: 'later', ttl: 5 });
    expect(create.status).to.equal(200);
    expect(create.body).to.deep.include({ dryRun: true, action: 'create', after: { ttl: 5 } });
    expect((await gw.post('/genesys/1/service/later')).status).to.equal(404);
    expect((await admin('DELETE', '/services/billing?dryRun=true', undefined, { 'if-match': etag })).body.after).to.equal(null);
    expect((await gw.post('/genesys/1/service/billing')).status).to.equal(200);
    expect((await admin('DELETE', '/services/billing?dryRun=maybe', undefined, { 'if-match': etag })).status).to.equal(400);
    expect(audit()).to.deep.equal([]);
  });

  it('a read-only token reads but cannot write (403), no token is 401, and nothing changes', async () => {
    const before = await fileText('billing.json');
    expect((await admin('GET', '/services/billing', undefined, {}, VIEWER)).status).to.equal(200);
    for (const [method, p, body] of [
      ['POST', '/services', { name: 'x' }],
      ['PUT', '/services/billing', { ttl: 1 }],
      ['PATCH', '/services/billing', { ttl: 1 }],
      ['DELETE', '/services/billing', undefined],
    ] as const) {
      const viewer = await admin(method, p, body, { 'if-match': '*' }, VIEWER);
      expect(viewer.status, method).to.equal(403);
      expect(viewer.body).to.deep.equal({ message: "The admin token 'viewer' is read-only.", exception: 'Forbidden' });
      expect((await admin(method, p, body, { 'if-match': '*' }, 'nobody')).status, method).to.equal(401);
    }
    expect(await fileText('billing.json')).to.equal(before);
    expect((await fs.readdir(gw.servicesDir)).filter((f) => f !== '.gms-applied-revision').sort()).to.deep.equal([
      'billing.json',
      'request-chat.json',
    ]);
  });

  it('a change sent by a page of another site is refused, and a form body is not accepted', async () => {
    const evil = await admin(
      'PATCH',
      '/services/billing',
      { enabled: false },
      { 'if-match': '*', origin: 'https://evil.example' },
    );
    expect(evil.status).to.equal(403);
    expect(
      (await admin('PATCH', '/services/billing', { enabled: false }, { 'if-match': '*', 'sec-fetch-site': 'cross-site' })).status,
    ).to.equal(403);
    const form = await request(gw.url, 'PATCH', '/genesys/1/admin/services/billing', 'enabled=false', {
      authorization: `Bearer ${OPS}`,
      'if-match': '*',
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(form.status).to.equal(415);
    expect(gw.services.get('billing')!.enabled).to.equal(true);
    const same = await admin(
      'PATCH',
      '/services/billing',
      { enabled: false },
      { 'if-match': '*', origin: gw.url, 'sec-fetch-site': 'same-origin' },
    );
    expect(same.status).to.equal(200);
  });

  it('every change is one audit line: who, what, before and after, agent token hashes hidden', async () => {
    const created = await admin('POST', '/endpoints', {
      name: 'vip',
      agents: [{ id: 'vera', nickname: 'Vera', token: hashToken(tokenOf('vera')) }],
    });
    expect(created.status).to.equal(201);
    // The new endpoint's agent signs in at once.
    expect((await agentClient(gw, 'vera').get('/me')).body).to.deep.include({ id: 'vera', endpoints: ['vip'] });
    const { etag } = (await admin('GET', '/services/billing')).body;
    await admin('PATCH', '/services/billing', { ttl: 60 }, { 'if-match': etag });

    const lines = audit();
    expect(lines.map((l) => l.msg)).to.deep.equal([
      "admin 'ops' created endpoint 'vip' (vip.json)",
      "admin 'ops' patched service 'billing' (billing.json)",
    ]);
    expect(lines[0].audit).to.deep.include({
      who: 'ops',
      action: 'create',
      kind: 'endpoint',
      name: 'vip',
      before: null,
      after: { agents: [{ id: 'vera', nickname: 'Vera', token: 'sha256:(hidden)' }] },
    });
    expect(lines[1].audit).to.deep.include({
      who: 'ops',
      action: 'patch',
      before: { ttl: 600, description: 'Bills' },
      after: { ttl: 60, description: 'Bills' },
    });
    expect(logText()).not.to.include(hashToken(tokenOf('vera')).slice(7));
    expect(logText()).not.to.include(OPS);

    // A read-only admin sees the endpoint without the hashes; a read-write one sees the file as it is.
    expect((await admin('GET', '/endpoints/vip', undefined, {}, VIEWER)).body.source.agents[0].token).to.equal('sha256:(hidden)');
    expect((await admin('GET', '/endpoints/vip')).body.source.agents[0].token).to.equal(hashToken(tokenOf('vera')));
    expect((await admin('GET', '/endpoints/vip')).body.options.agents).to.deep.equal([{ id: 'vera', nickname: 'Vera' }]);
  });

  it('a YAML file stays YAML, and a file refused now shows its problems and can be fixed through the API', async () => {
    await fs.writeFile(path.join(gw.servicesDir, 'chat.yaml'), 'ttl: 100\n');
    await gw.writeService('broken.json', '{"ttl": ');
    await eventually(async () => (await admin('GET', '/services/broken')).status === 200);
    const chat = await eventually(async () => {
      const r = await admin('GET', '/services/chat');
      return r.body.options ? r : undefined;
    });
    const patched = await admin('PATCH', '/services/chat', { ttl: 200 }, { 'if-match': chat.body.etag });
    expect(patched.body.file).to.equal('chat.yaml');
    expect(await fileText('chat.yaml')).to.equal('ttl: 200\n');

    const broken = await admin('GET', '/services/broken');
    expect(broken.body).to.deep.include({ source: null, options: null, lastGoodServing: false });
    expect(broken.body.problems[0].reason).to.match(/^not valid JSON/);
    expect((await admin('PATCH', '/services/broken', { ttl: 5 }, { 'if-match': broken.body.etag })).status).to.equal(409);
    const fixed = await admin('PUT', '/services/broken', { ttl: 5 }, { 'if-match': broken.body.etag });
    expect(fixed.status).to.equal(200);
    expect((await admin('GET', '/services/broken')).body).not.to.have.property('problems');
    expect((await gw.post('/genesys/1/service/broken')).status).to.equal(200);
  });
});
