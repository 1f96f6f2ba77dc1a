// Services from files: validation with schema defaults, live reload, last good version, admin listing.

import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { startCustomerChat } from './helpers/chat-client.ts';
import { eventually, startTestGateway, type TestGateway } from './helpers/gateway.ts';

describe('services from files', () => {
  let gw: TestGateway;

  afterEach(async () => {
    await gw?.close();
  });

  async function verbose(name: string): Promise<{ status: number; body: Record<string, unknown> }> {
    return gw.post(`/genesys/1/service/${name}`, { _gateway_extras: 'true' });
  }

  it('serves a service file with the schema defaults filled in', async () => {
    gw = await startTestGateway({ services: { 'support.json': {} } });
    const res = await verbose('support');
    expect(res.status).to.equal(200);
    expect(res.body._service).to.equal('support');
    expect(res.body._ttl).to.equal(3600);
    expect(res.body._endpoint).to.equal('gms_builtin');
    expect(res.body._id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(res.body['_chatIxnAPI-CREATE-URL']).to.equal(`/genesys/1/service/${res.body._id as string}/ixn/chat`);
  });

  it('reads YAML files and accepts the GMS option names _ttl and _chat_endpoint', async () => {
    gw = await startTestGateway({
      services: { 'sales.yaml': 'type: request-chat\n_ttl: 120\n', 'billing.yml': { _chat_endpoint: 'gms_builtin', ttl: 60 } },
    });
    expect((await verbose('sales')).body._ttl).to.equal(120);
    const billing = await verbose('billing');
    expect(billing.body._ttl).to.equal(60);
    expect(billing.body._endpoint).to.equal('gms_builtin');
  });

  it("routes an endpoint written GMS's way, <tenant>:<name>, to the endpoint of that name", async () => {
    gw = await startTestGateway({ services: { 'tenant.json': { endpoint: 'Environment:gms_builtin' } } });
    const res = await verbose('tenant');
    expect(res.status).to.equal(200);
    expect(res.body._endpoint).to.equal('gms_builtin');
    const { body } = await gw.get('/genesys/1/admin/services');
    expect(body.services[0].options).to.include({ endpoint: 'gms_builtin', tenant: 'Environment' });
  });

  it('answers 404 ServiceNotFound for an unknown service, and for names that are not service names', async () => {
    gw = await startTestGateway();
    for (const name of ['nope', '..%2F..%2Fetc%2Fpasswd', '.hidden', 'a%00b']) {
      const res = await gw.post(`/genesys/1/service/${name}`);
      expect(res.status, name).to.equal(404);
      expect(res.body).to.deep.equal({ message: res.body.message, exception: 'ServiceNotFound' });
    }
  });

  it('answers 503 ServiceUnavailable for a disabled service', async () => {
    gw = await startTestGateway({ services: { 'closed.json': { enabled: false } } });
    const res = await gw.post('/genesys/1/service/closed');
    expect(res.status).to.equal(503);
    expect(res.body.exception).to.equal('ServiceUnavailable');
  });

  it('disabling a service in its file turns new sessions away while chats under way go on', async () => {
    gw = await startTestGateway({ services: { 'support.json': {} } });
    const chat = await startCustomerChat(gw, { service: 'support' });
    await gw.writeService('support.json', { enabled: false });
    await eventually(
      async () => (await gw.post('/genesys/1/service/support')).status === 503,
      3000,
      'the service to be disabled',
    );
    const sent = await chat.call('send', { message: 'still here' });
    expect(sent.status).to.equal(200);
    expect(sent.body).to.include({ chatIxnState: 'CONNECTED', transcriptPosition: '2' });
    expect((await chat.call('disconnect')).body.chatIxnState).to.equal('DISCONNECTED');
  });

  it('a file dropped into the folder answers at once, without a restart', async () => {
    gw = await startTestGateway({ services: {} });
    expect((await gw.post('/genesys/1/service/late')).status).to.equal(404);
    await gw.writeService('late.json', { ttl: 30 });
    // Well within a second on an idle machine; 3 s leaves a loaded one its scheduling delays.
    await eventually(async () => (await gw.post('/genesys/1/service/late')).status === 200, 3000, 'the new service');
  });

  it('an edited ttl shows in the very next _verbose response', async () => {
    gw = await startTestGateway({ services: { 'chat.json': { ttl: 100 } } });
    expect((await verbose('chat')).body._ttl).to.equal(100);
    await gw.writeService('chat.json', { ttl: 200 });
    await eventually(async () => (await verbose('chat')).body._ttl === 200, 3000, 'the new ttl');
  });

  it('an invalid file over a valid one keeps the old version serving, and the admin listing shows why', async () => {
    gw = await startTestGateway({ services: { 'chat.json': { ttl: 100 } } });
    await gw.writeService('chat.json', { ttl: -5, colour: 'red' });
    const listing = await eventually(
      async () => {
        const res = await gw.get('/genesys/1/admin/services');
        return res.body.rejected.length > 0 ? res.body : undefined;
      },
      3000,
      'the rejection',
    );
    expect((await verbose('chat')).body._ttl).to.equal(100);
    const [rejected] = listing.rejected;
    expect(rejected.file).to.equal('chat.json');
    expect(rejected.lastGoodServing).to.equal(true);
    const fields = rejected.problems.map((p: { field: string }) => p.field).sort();
    expect(fields).to.deep.equal(['colour', 'ttl']);
    expect(listing.services.map((s: { name: string }) => s.name)).to.deep.equal(['chat']);
    expect(listing.services[0].options.ttl).to.equal(100);
    // Fixing the file clears the rejection and applies the new version.
    await gw.writeService('chat.json', { ttl: 300 });
    await eventually(async () => (await verbose('chat')).body._ttl === 300, 3000, 'the fixed file');
    expect((await gw.get('/genesys/1/admin/services')).body.rejected).to.deep.equal([]);
  });

  it('refuses unknown options, wrong types and conflicting aliases, naming the field', async () => {
    gw = await startTestGateway({
      services: {
        'typo.json': { ttll: 10 },
        'wrongtype.json': { ttl: 'ten' },
        'both.json': { ttl: 10, _ttl: 20 },
        'badstatus.json': { disconnectedStatus: 500 },
        'notjson.json': '{"ttl": ',
        'array.json': '[1,2]',
      },
    });
    const { body } = await gw.get('/genesys/1/admin/services');
    const byFile = Object.fromEntries(body.rejected.map((r: { file: string; problems: unknown[] }) => [r.file, r.problems]));
    expect(byFile['typo.json'][0]).to.include({ field: 'ttll' });
    expect(byFile['wrongtype.json'][0]).to.include({ field: 'ttl', reason: 'must be integer' });
    expect(byFile['both.json'][0]).to.include({ field: '_ttl' });
    expect(byFile['badstatus.json'][0]).to.include({ field: 'disconnectedStatus' });
    expect(byFile['notjson.json'][0].reason).to.match(/not valid JSON/);
    expect(byFile['array.json'][0].reason).to.match(/one object/);
    expect(body.services).to.deep.equal([]);
  });

  it('deleting the file removes the service (404)', async () => {
    gw = await startTestGateway({ services: { 'gone.json': {} } });
    expect((await gw.post('/genesys/1/service/gone')).status).to.equal(200);
    await fs.unlink(path.join(gw.servicesDir, 'gone.json'));
    await eventually(async () => (await gw.post('/genesys/1/service/gone')).status === 404, 3000, 'the removal');
  });

  it('renaming a file moves the service to its new name', async () => {
    gw = await startTestGateway({ services: { 'old.json': { ttl: 42 } } });
    await fs.rename(path.join(gw.servicesDir, 'old.json'), path.join(gw.servicesDir, 'new.json'));
    await eventually(async () => (await gw.post('/genesys/1/service/new')).status === 200, 3000, 'the new name');
    await eventually(async () => (await gw.post('/genesys/1/service/old')).status === 404, 3000, 'the old name gone');
    expect((await verbose('new')).body._ttl).to.equal(42);
  });

  it('ignores editor swap files, backups and dotfiles', async () => {
    gw = await startTestGateway({ services: { 'chat.json': {} } });
    await gw.writeService('.chat.json.swp', 'garbage');
    await gw.writeService('chat.json~', 'garbage');
    await gw.writeService('.hidden.json', '{"ttl": -1}');
    await gw.writeService('notes.txt', 'not a service');
    await gw.writeService('probe.json', {});
    await eventually(async () => (await gw.post('/genesys/1/service/probe')).status === 200, 3000, 'the probe');
    const { body } = await gw.get('/genesys/1/admin/services');
    expect(body.rejected).to.deep.equal([]);
    expect(body.services.map((s: { name: string }) => s.name)).to.deep.equal(['chat', 'probe']);
  });

  it('a half-written file is not taken for an invalid one: the finished write is loaded', async () => {
    gw = await startTestGateway({ services: { 'slow.json': { ttl: 100 } } });
    // Watch the admin listing all through the write: a rejection must never show, even briefly.
    let sawRejection = false;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const { body } = await gw.get('/genesys/1/admin/services');
        if (body.rejected.length > 0) sawRejection = true;
      }
    })();
    const handle = await fs.open(path.join(gw.servicesDir, 'slow.json'), 'w');
    await handle.write('{"ttl": ');
    await new Promise((r) => setTimeout(r, 30));
    await handle.write('250}');
    await handle.close();
    await eventually(async () => (await verbose('slow')).body._ttl === 250, 3000, 'the finished file');
    watching = false;
    await watcher;
    expect(sawRejection, 'a rejection showed while the file was being written').to.equal(false);
  });

  it('a flood of edits to one file ends on its last content', async () => {
    gw = await startTestGateway({ services: { 'busy.json': { ttl: 1 } } });
    for (let ttl = 2; ttl <= 60; ttl++) await gw.writeService('busy.json', { ttl });
    await eventually(async () => (await verbose('busy')).body._ttl === 60, 3000, 'the last edit');
    await gw.settled();
    expect((await verbose('busy')).body._ttl).to.equal(60);
  });

  it('at start, a bad file is refused while the good ones serve', async () => {
    gw = await startTestGateway({ services: { 'good.json': {}, 'bad.json': { ttl: 0 } } });
    expect((await gw.post('/genesys/1/service/good')).status).to.equal(200);
    expect((await gw.post('/genesys/1/service/bad')).status).to.equal(404);
    const { body } = await gw.get('/genesys/1/admin/services');
    expect(body.rejected).to.have.length(1);
    expect(body.rejected[0]).to.include({ file: 'bad.json', lastGoodServing: false });
  });

  it('two files for one name: the first keeps it, the second is refused', async () => {
    gw = await startTestGateway({ services: { 'twin.json': { ttl: 10 } } });
    await gw.writeService('twin.yaml', 'ttl: 20\n');
    const listing = await eventually(
      async () => {
        const res = await gw.get('/genesys/1/admin/services');
        return res.body.rejected.length > 0 ? res.body : undefined;
      },
      3000,
      'the rejection',
    );
    expect(listing.rejected[0].file).to.equal('twin.yaml');
    expect((await verbose('twin')).body._ttl).to.equal(10);
  });
});
