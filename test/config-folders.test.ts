// What a config folder (services.d, endpoints.d) may hold and what the gateway reads of it: regular
// files inside the folder only. A FIFO, a link out of the folder or a huge file is refused with a reason
// that never quotes what a file holds; the gateway keeps serving, reloading and stopping meanwhile.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { MAX_CONFIG_FILE_BYTES } from '../src/config/config-folder.ts';
import type { Rejection } from '../src/config/registry.ts';
import { GATEWAY_EXTRAS } from '../src/http/gms-routes.ts';
import { eventually, makeTempDir, startTestGateway, type TestGateway } from './helpers/gateway.ts';

const SECRET = 'TOPSECRET-5f1e';

describe('config folders', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  /** A gateway on a folder prepared before it starts: `prepare` fills services.d. */
  async function startOn(prepare: (servicesDir: string) => Promise<void>): Promise<TestGateway> {
    const dir = await makeTempDir();
    const servicesDir = path.join(dir, 'services.d');
    await fs.mkdir(servicesDir);
    await fs.mkdir(path.join(dir, 'endpoints.d'));
    await fs.writeFile(path.join(dir, 'endpoints.d', 'gms_builtin.json'), '{}');
    await fs.writeFile(path.join(servicesDir, 'request-chat.json'), '{}');
    await prepare(servicesDir);
    return startTestGateway({ dir });
  }

  const rejection = (g: TestGateway, file: string): Rejection | undefined => g.services.rejected().find((r) => r.file === file);

  it('a FIFO named x.json is refused at once, at start and when dropped in later; pages answer, reloads apply, and the gateway stops', async () => {
    gw = await startOn((servicesDir) => {
      execFileSync('mkfifo', [path.join(servicesDir, 'x.json')]);
      return Promise.resolve();
    });
    expect(rejection(gw, 'x.json')?.problems[0]?.reason).to.contain('not a regular file');
    execFileSync('mkfifo', [path.join(gw.servicesDir, 'y.yaml')]);
    await eventually(() => rejection(gw!, 'y.yaml'), 3000, 'the FIFO dropped in to be refused');
    expect((await gw.post('/genesys/1/service/request-chat')).status).to.equal(200);
    await gw.writeService('later.json', {});
    await eventually(async () => (await gw!.post('/genesys/1/service/later')).status === 200, 3000, 'a later file to be served');
    const stopping = gw;
    gw = undefined;
    await stopping.close();
  });

  it('a link out of the folder is refused without showing its target or its content', async () => {
    const outside = path.join(await makeTempDir(), 'secret.json');
    await fs.writeFile(outside, `{"ttl": 10, "description": "${SECRET}"}`);
    gw = await startOn(async (servicesDir) => {
      await fs.symlink(outside, path.join(servicesDir, 'leak.json'));
      await fs.symlink('../../../../../../../../../..' + outside, path.join(servicesDir, 'relative.json'));
    });
    for (const file of ['leak.json', 'relative.json']) {
      const refused = rejection(gw, file);
      expect(refused?.problems[0]?.reason, file).to.contain('outside its folder');
      expect(JSON.stringify(refused)).not.to.contain(SECRET).and.not.to.contain(outside);
      expect((await gw.post(`/genesys/1/service/${file.replace('.json', '')}`)).status).to.equal(404);
    }
  });

  it('links inside the folder are followed, as a Kubernetes ConfigMap mount lays them out (..data)', async () => {
    gw = await startOn(async (servicesDir) => {
      await fs.mkdir(path.join(servicesDir, '..2026_11_30_01_02_03.000000001'));
      await fs.writeFile(path.join(servicesDir, '..2026_11_30_01_02_03.000000001', 'mounted.json'), '{"ttl": 42}');
      await fs.symlink('..2026_11_30_01_02_03.000000001', path.join(servicesDir, '..data'));
      await fs.symlink('..data/mounted.json', path.join(servicesDir, 'mounted.json'));
    });
    const reply = await gw.post('/genesys/1/service/mounted', { [GATEWAY_EXTRAS]: 'true' });
    expect(reply.status).to.equal(200);
    expect(reply.body._ttl).to.equal(42);
  });

  it('refusal reasons never quote a file: not bad JSON, bad YAML, odd option names, nor a file too large', async () => {
    gw = await startOn(async (servicesDir) => {
      await fs.writeFile(path.join(servicesDir, 'json.json'), `{"ttl": 10,\n "${SECRET}" 1}`);
      await fs.writeFile(path.join(servicesDir, 'token.json'), `${SECRET} is not JSON`);
      await fs.writeFile(path.join(servicesDir, 'yaml.yaml'), `ttl: 10\n${SECRET}: [unclosed\n`);
      await fs.writeFile(path.join(servicesDir, 'names.json'), JSON.stringify({ [`${SECRET} value!`]: 1 }));
      await fs.writeFile(path.join(servicesDir, 'huge.json'), `{"description": "${SECRET}${'x'.repeat(MAX_CONFIG_FILE_BYTES)}"}`);
    });
    const reasons = Object.fromEntries(gw.services.rejected().map((r) => [r.file, r.problems]));
    expect(Object.keys(reasons).sort()).to.deep.equal(['huge.json', 'json.json', 'names.json', 'token.json', 'yaml.yaml']);
    expect(JSON.stringify(reasons)).not.to.contain(SECRET);
    expect(reasons['json.json'][0].reason).to.match(/^not valid JSON at line 2, column \d+$/);
    expect(reasons['token.json'][0].reason).to.equal('not valid JSON');
    expect(reasons['yaml.yaml'][0].reason).to.match(/^not valid YAML \(\w+\) at line \d+, column \d+$/);
    expect(reasons['huge.json'][0].reason).to.contain(`larger than ${MAX_CONFIG_FILE_BYTES} bytes`);
    expect(reasons['names.json'][0].reason).to.contain('unknown option');
  });
});
