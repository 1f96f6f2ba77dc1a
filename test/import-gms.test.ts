// `npm run import-gms`: a GMS application's options export → services.d files, round trip included:
// import into a temp folder, `npm run validate` passes, and a real gateway on that folder serves chats.

import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { built } from './helpers/built.ts';
import { agentClient, endpointFile } from './helpers/agent-client.ts';
import { startCustomerChat } from './helpers/chat-client.ts';
import { startV2Chat } from './helpers/chat-v2-client.ts';
import { makeTempDir, startTestGateway, type TestGateway } from './helpers/gateway.ts';

const exec = promisify(execFile);
const EXAMPLE = path.resolve('examples/gms-options.ini');

async function cli(module: string, args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await exec(process.execPath, [built(module), ...args]);
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, out: e.stdout };
  }
}

const importGms = (...args: string[]) => cli('config/import-gms-cli', args);
const validate = (...args: string[]) => cli('config/validate-cli', args);

describe('npm run import-gms', function () {
  // Each test runs the command-line tools as processes: slow on a busy machine.
  this.timeout(120_000);
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('round trip on the shipped example: import, validate, and a gateway on that folder serves every imported service', async () => {
    const dir = await makeTempDir();
    const servicesDir = path.join(dir, 'services.d');
    const endpointsDir = path.join(dir, 'endpoints.d');
    await fs.mkdir(endpointsDir);
    await fs.writeFile(path.join(endpointsDir, 'gms_builtin.json'), JSON.stringify(endpointFile(['alice'])));

    const imported = await importGms(EXAMPLE, '--out', servicesDir, '--endpoints', endpointsDir);
    expect(imported.code, imported.out).to.equal(0);
    expect((await fs.readdir(servicesDir)).sort()).to.deep.equal(['mobile-chat.json', 'request-chat.json', 'web-chat.json']);
    // What it mapped, ignored and skipped, and why.
    expect(imported.out).to.contain(`wrote    [service.mobile-chat] → ${servicesDir}/mobile-chat.json`);
    expect(imported.out).to.contain('  mapped   _ttl=7200 → ttl 7200');
    expect(imported.out).to.contain('  mapped   _chat_400_response_on_disconnected=true → disconnectedStatus 400');
    expect(imported.out).to.match(/^ {2}ignored {2}_client_timeout_notification=90: .*mobile push notification/m);
    expect(imported.out).to.match(/^ {2}note {5}chats route to endpoint 'mobile', which .* does not define yet/m);
    expect(imported.out).to.match(
      /^skipped {2}\[service\.callback-immediate\]: a GMS callback service \(_service=callback\), not a basic chat service$/m,
    );
    expect(imported.out).to.match(/^skipped {2}\[service\.chat-immediate\]: _type=ors: /m);
    expect(imported.out).to.match(/^skipped {2}\[service\.office-hours\]: a GMS office-hours service/m);
    expect(imported.out).to.match(/^skipped {2}\[push\]: not a service section/m);
    expect(JSON.parse(await fs.readFile(path.join(servicesDir, 'mobile-chat.json'), 'utf8'))).to.deep.include({
      type: 'request-chat',
      ttl: 7200,
      endpoint: 'Environment:mobile',
      disconnectedStatus: 400,
    });

    const checked = await validate(servicesDir);
    expect(checked.code, checked.out).to.equal(0);
    expect(checked.out.trim().split('\n')).to.have.length(3);

    // The endpoints the import named, then a real gateway on the folder.
    for (const name of ['default', 'mobile'])
      await fs.writeFile(path.join(endpointsDir, `${name}.json`), JSON.stringify(endpointFile(['alice'])));
    gw = await startTestGateway({ dir });
    const { body } = await gw.get('/genesys/1/admin/services');
    expect(body.rejected).to.deep.equal([]);
    expect(body.services.map((s: { name: string }) => s.name)).to.deep.equal(['mobile-chat', 'request-chat', 'web-chat']);
    const alice = agentClient(gw, 'alice');
    for (const service of ['request-chat', 'mobile-chat', 'web-chat']) {
      const chat = await startCustomerChat(gw, { service });
      expect((await chat.call('send', { message: `hello ${service}` })).status).to.equal(200);
      const chatId = chat.start.body.chatSessionId as string;
      expect((await alice.post(`/chats/${chatId}/accept`)).status).to.equal(200);
      expect((await alice.post(`/chats/${chatId}/send`, { message: 'How can I help?' })).status).to.equal(200);
      const seen = await chat.call('refresh');
      expect(seen.body.transcriptToShow.map((e: string[]) => e[2])).to.include('How can I help?');
    }
    // The imported _chat_400_response_on_disconnected=true holds.
    const mobile = await startCustomerChat(gw, { service: 'mobile-chat' });
    await mobile.call('disconnect');
    expect((await mobile.call('refresh')).status).to.equal(400);
  });

  it('leaves out unknown options and refuses bad values, saying which; keeps existing files without --force', async () => {
    const dir = await makeTempDir();
    const exported = path.join(dir, 'export.ini');
    await fs.writeFile(
      exported,
      [
        '[service.chat-a]',
        '_type=builtin',
        '_service=request-chat',
        '_ttl=600',
        '_chat_endpiont=Environment:x',
        '[service.chat-b]',
        '_type=builtin',
        '_service=request-chat',
        '_ttl=forever',
        'a line without an equals sign',
        '[service.bad name]',
        '_type=builtin',
        '_service=request-chat',
      ].join('\n'),
    );
    const out = path.join(dir, 'services.d');
    const first = await importGms(exported, '--out', out, '--endpoints', dir);
    expect(first.code, first.out).to.equal(0);
    expect(first.out).to.match(
      /^ {2}left out _chat_endpiont=Environment:x: not an option of a GMS request-chat service this gateway knows/m,
    );
    expect(first.out).to.match(/^skipped {2}\[service\.chat-b\]: refused: chat-b\.json: _ttl: must be integer$/m);
    expect(first.out).to.match(/^unread {3}line 10: "a line without an equals sign"/m);
    expect(first.out).to.match(/^skipped {2}\[service\.bad name\]: 'bad name' cannot be a service name here/m);
    expect(await fs.readdir(out)).to.deep.equal(['chat-a.json']);
    expect(JSON.parse(await fs.readFile(path.join(out, 'chat-a.json'), 'utf8'))).to.include({
      ttl: 600,
      endpoint: 'gms_builtin',
    });

    await fs.writeFile(path.join(out, 'chat-a.json'), '{"ttl": 5}');
    const again = await importGms(exported, '--out', out, '--endpoints', dir);
    expect(again.code).to.equal(1);
    expect(again.out).to.contain(`skipped  [service.chat-a]: ${out}/chat-a.json exists (--force replaces it)`);
    expect(JSON.parse(await fs.readFile(path.join(out, 'chat-a.json'), 'utf8'))).to.deep.equal({ ttl: 5 });
    expect((await importGms(exported, '--out', out, '--endpoints', dir, '--force')).code).to.equal(0);
    expect(JSON.parse(await fs.readFile(path.join(out, 'chat-a.json'), 'utf8'))).to.include({ ttl: 600 });
  });

  it("Chat API v2: [chat.<name>] and the [chat] catch-all set chatApiVersions, Chat Server's client-file-transfer sets fileTransfer", async () => {
    const dir = await makeTempDir();
    const exported = path.join(dir, 'export.ini');
    await fs.writeFile(
      exported,
      [
        '[chat]',
        'default_chat_endpoint=Environment:gms_builtin',
        '[client-file-transfer]',
        'upload-max-file-size=1048576',
        'upload-max-files=5',
        'upload-file-types=txt:png:pdf',
        '[service.web-chat]',
        '_type=builtin',
        '_service=request-chat',
        '_chat_endpoint=gms_builtin',
        '[chat.web-chat]',
        'endpoint=Environment:web',
        'upload-max-total-size=4194304',
        'upload-need-agent=false',
        '_colour=red',
        '[service.mobile-chat]',
        '_type=builtin',
        '_service=request-chat',
        '[chat.widgets]',
        'upload-max-files=0',
        '[chat.huge]',
        'upload-max-file-size=999999999',
      ].join('\n'),
    );
    const servicesDir = path.join(dir, 'services.d');
    const endpointsDir = path.join(dir, 'endpoints.d');
    await fs.mkdir(endpointsDir);
    await fs.writeFile(path.join(endpointsDir, 'gms_builtin.json'), JSON.stringify(endpointFile(['alice'])));
    const imported = await importGms(exported, '--out', servicesDir, '--endpoints', endpointsDir);
    expect(imported.code, imported.out).to.equal(0);
    expect(imported.out).to.contain(`wrote    [service.web-chat] and [chat.web-chat] → ${servicesDir}/web-chat.json`);
    expect(imported.out).to.contain('  mapped   [client-file-transfer] upload-max-files=5 → fileTransfer.maxFiles 5');
    expect(imported.out).to.contain('  mapped   [chat.web-chat] upload-need-agent=false → fileTransfer.needAgent false');
    expect(imported.out).to.contain('  mapped   Chat API v2=answered by [chat.web-chat] → chatApiVersions [1,2]');
    expect(imported.out).to.contain('  mapped   Chat API v2=answered by [chat], for every service name → chatApiVersions [1,2]');
    expect(imported.out).to.match(
      /^ {2}left out \[chat\.web-chat\] endpoint=Environment:web: the service is routed by \[service\.web-chat\]'s _chat_endpoint/m,
    );
    expect(imported.out).to.match(/^ {2}left out \[chat\.web-chat\] _colour=red: not an option of a GMS Chat API v2 section/m);
    expect(imported.out).to.contain(
      '  mapped   [chat] default_chat_endpoint=Environment:gms_builtin → endpoint "Environment:gms_builtin"',
    );
    expect(imported.out).to.match(
      /^skipped {2}\[chat\.huge\]: refused: huge\.json: fileTransfer\.maxFileSize: must be <= 52428800$/m,
    );
    expect((await fs.readdir(servicesDir)).sort()).to.deep.equal(['mobile-chat.json', 'web-chat.json', 'widgets.json']);
    expect(JSON.parse(await fs.readFile(path.join(servicesDir, 'web-chat.json'), 'utf8'))).to.deep.include({
      chatApiVersions: [1, 2],
      fileTransfer: {
        enabled: true,
        maxFileSize: 1048576,
        maxFiles: 5,
        maxTotalSize: 4194304,
        fileTypes: ['txt', 'png', 'pdf'],
        needAgent: false,
      },
    });
    expect((await validate(servicesDir)).code).to.equal(0);

    // Served as imported: web-chat on both APIs with its file limits, widgets on v2 only and without files.
    gw = await startTestGateway({ dir });
    expect((await startCustomerChat(gw, { service: 'web-chat' })).start.status).to.equal(200);
    const web = await startV2Chat(gw, { service: 'web-chat' });
    const limits = await web.call('file/limits');
    expect(limits.body.userData).to.include({
      'upload-max-files': '5',
      'upload-max-file-size': '1048576',
      'upload-file-types': 'txt:png:pdf',
    });
    const form = new FormData();
    for (const [k, v] of Object.entries(web.credentials())) form.append(k, v);
    form.append('file', new Blob(['hello']), 'notes.txt');
    expect((await gw.post(`/genesys/2/chat/web-chat/${web.chatId}/file`, form)).status).to.equal(200);
    expect((await startV2Chat(gw, { service: 'mobile-chat' })).start.status).to.equal(200);
    expect((await gw.post('/genesys/1/service/widgets')).status).to.equal(404);
    const widgets = await startV2Chat(gw, { service: 'widgets' });
    expect((await widgets.call('file/limits')).body.userData['upload-max-files']).to.equal('0');
  });

  it('without a [chat] or [chat.<name>] section a basic chat service answers Chat API v1 only, as in GMS', async () => {
    const dir = await makeTempDir();
    const exported = path.join(dir, 'export.ini');
    await fs.writeFile(exported, '[service.only-v1]\n_type=builtin\n_service=request-chat\n');
    const imported = await importGms(exported, '--out', path.join(dir, 'services.d'), '--endpoints', dir);
    expect(imported.code, imported.out).to.equal(0);
    expect(imported.out).to.contain(
      '  mapped   Chat API v2=no [chat.only-v1] nor [chat] section: GMS would not answer Chat API v2 for it → chatApiVersions [1]',
    );
    expect(JSON.parse(await fs.readFile(path.join(dir, 'services.d', 'only-v1.json'), 'utf8'))).to.deep.include({
      chatApiVersions: [1],
    });
  });

  it('exits 1 for an export it cannot read or one without a basic chat service', async () => {
    const dir = await makeTempDir();
    const missing = await importGms(path.join(dir, 'nope.ini'), '--out', dir);
    expect(missing.code).to.equal(1);
    expect(missing.out).to.contain('nope.ini: cannot be read (ENOENT)');
    const callbacks = path.join(dir, 'callbacks.ini');
    await fs.writeFile(callbacks, '[service.cb]\n_type=ors\n_service=callback\n');
    const none = await importGms(callbacks, '--out', path.join(dir, 'out'));
    expect(none.code).to.equal(1);
    expect(none.out).to.contain('no basic chat service (request-chat, _type=builtin) found to import');
  });
});
