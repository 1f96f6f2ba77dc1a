// Service files written as GMS service sections: GMS's option names, every value a string, the
// options that only make sense inside a Genesys deployment accepted and reported, never silently.

import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { built } from './helpers/built.ts';
import { pino } from 'pino';
import { startGateway, type Gateway } from '../src/gateway.ts';
import { readSettings } from '../src/settings.ts';
import { startCustomerChat } from './helpers/chat-client.ts';
import { makeTempDir, request, startTestGateway, type TestGateway } from './helpers/gateway.ts';

const run = promisify(execFile);

/** A request-chat section of a GMS application's options, as an operator wrote it. */
const GMS_SECTION = {
  _type: 'builtin',
  _service: 'request-chat',
  _ttl: '120',
  _chat_endpoint: 'Environment:gms_builtin',
  _chat_400_response_on_disconnected: 'True',
  _client_timeout_notification: '90',
  _agent_timeout_notification_message: 'Customer is not online',
};

describe('service files written the GMS way', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('serves a GMS section with string values: mapped options applied, the others listed as ignored', async () => {
    gw = await startTestGateway({ services: { 'gms-chat.json': GMS_SECTION } });
    const { body } = await gw.get('/genesys/1/admin/services');
    expect(body.rejected).to.deep.equal([]);
    const [service] = body.services;
    expect(service.options).to.include({ ttl: 120, endpoint: 'gms_builtin', tenant: 'Environment', disconnectedStatus: 400 });
    expect(service.options).to.not.have.any.keys('_ttl', '_type', '_service', '_client_timeout_notification', 'ignored');
    expect(service.ignored.map((o: { option: string }) => o.option)).to.deep.equal([
      '_agent_timeout_notification_message',
      '_client_timeout_notification',
    ]);
    expect(service.ignored[1]).to.include({ value: '90' });
    expect(service.ignored[1].reason).to.match(/mobile push notification/);

    // _chat_400_response_on_disconnected=True: refresh after the end answers 400 ChatEnded.
    const chat = await startCustomerChat(gw, { service: 'gms-chat' });
    await chat.call('disconnect');
    const after = await chat.call('refresh');
    expect(after.status).to.equal(400);
    expect(after.body.exception).to.equal('ChatEnded');
  });

  it('takes ours written as strings too, and refuses values that are not what the option needs', async () => {
    gw = await startTestGateway({
      services: {
        'strings.json': { ttl: '60', enabled: 'false', maxMessageLength: '10', disconnectedStatus: '400' },
        'badttl.json': { _ttl: 'an hour' },
        'badflag.json': { _chat_400_response_on_disconnected: 'yes' },
      },
    });
    const { body } = await gw.get('/genesys/1/admin/services');
    expect(body.services[0].options).to.include({ ttl: 60, enabled: false, maxMessageLength: 10, disconnectedStatus: 400 });
    const byFile = Object.fromEntries(body.rejected.map((r: { file: string; problems: unknown[] }) => [r.file, r.problems]));
    expect(byFile['badttl.json'][0]).to.include({ field: '_ttl', reason: 'must be integer' });
    expect(byFile['badflag.json'][0]).to.include({ field: '_chat_400_response_on_disconnected', reason: 'must be boolean' });
  });

  it('checks _type and _service, refuses both names of one option, and still refuses unknown options', async () => {
    gw = await startTestGateway({
      services: {
        'ors.json': { _type: 'ors', _service: 'request-chat' },
        'callback.json': { _type: 'builtin', _service: 'callback' },
        'twice.json': { _chat_400_response_on_disconnected: 'true', disconnectedStatus: 200 },
        'typo.json': { _chat_endpiont: 'gms_builtin' },
        'other.json': { colour: 'red' },
      },
    });
    const { body } = await gw.get('/genesys/1/admin/services');
    expect(body.services).to.deep.equal([]);
    const byFile = Object.fromEntries(body.rejected.map((r: { file: string; problems: unknown[] }) => [r.file, r.problems]));
    expect(byFile['ors.json'][0]).to.include({ field: '_type', reason: 'must be one of "builtin"' });
    expect(byFile['callback.json'][0]).to.include({ field: '_service', reason: 'must be one of "request-chat"' });
    expect(byFile['twice.json'][0]).to.include({ field: '_chat_400_response_on_disconnected' });
    expect(byFile['typo.json'][0]).to.include({ field: '_chat_endpiont', reason: 'unknown option (check its spelling)' });
    expect(byFile['other.json'][0]).to.include({ field: 'colour' });
  });

  it('logs one warning per ignored option when the file is loaded', async () => {
    const dir = await makeTempDir();
    const servicesDir = path.join(dir, 'services.d');
    const endpointsDir = path.join(dir, 'endpoints.d');
    await fs.mkdir(servicesDir);
    await fs.mkdir(endpointsDir);
    await fs.writeFile(path.join(servicesDir, 'gms-chat.json'), JSON.stringify(GMS_SECTION));
    await fs.writeFile(path.join(endpointsDir, 'gms_builtin.json'), '{}');
    const lines: Array<{ level: number; msg: string }> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as { level: number; msg: string });
        done();
      },
    });
    const settings = readSettings({
      PORT: '0',
      HOST: '127.0.0.1',
      SERVICES_DIR: servicesDir,
      ENDPOINTS_DIR: endpointsDir,
      STORE_URL: 'memory://',
    });
    const gateway: Gateway = await startGateway(settings, pino({ level: 'info' }, sink));
    try {
      expect((await request(gateway.url, 'POST', '/genesys/1/service/gms-chat')).status).to.equal(200);
    } finally {
      await gateway.close();
    }
    const warnings = lines.filter((l) => l.level === 40 && l.msg.startsWith('gms-chat.json')).map((l) => l.msg);
    expect(warnings).to.have.length(2);
    expect(warnings[0]).to.match(/^gms-chat\.json: _agent_timeout_notification_message="Customer is not online" ignored: /);
    expect(warnings[1]).to.match(/^gms-chat\.json: _client_timeout_notification="90" ignored: .*mobile push notification/);
  });

  it('npm run validate passes a GMS section and prints what it ignores', async function () {
    this.timeout(60_000); // a process of its own: slow on a busy machine
    const dir = await makeTempDir();
    await fs.writeFile(path.join(dir, 'gms-chat.json'), JSON.stringify(GMS_SECTION));
    const { stdout } = await run(process.execPath, [built('config/validate-cli'), dir]);
    expect(stdout).to.contain(`ok      ${dir}/gms-chat.json: service 'gms-chat' (ttl 120s, endpoint gms_builtin)`);
    expect(stdout).to.contain(`ignored ${dir}/gms-chat.json: _client_timeout_notification="90" ignored: `);
    expect(stdout).to.contain(
      `ignored ${dir}/gms-chat.json: _agent_timeout_notification_message="Customer is not online" ignored: `,
    );
  });
});
