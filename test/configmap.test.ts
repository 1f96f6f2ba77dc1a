// A services.d/ mounted from a Kubernetes ConfigMap: the files are links through `..data` to a timestamped
// folder, and an update swaps the `..data` link at once (never writes a file in place). The gateway must
// follow the swap, including a file added or removed by it.

import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { eventually, makeTempDir, request, startTestGateway, type TestGateway } from './helpers/gateway.ts';

/** Lays out `files` as the kubelet does: a new timestamped folder, `..data` swapped to it by rename, links for each key. */
async function publish(dir: string, version: string, files: Record<string, unknown>): Promise<void> {
  const data = path.join(dir, `..${version}`);
  await fs.mkdir(data);
  for (const [file, content] of Object.entries(files)) await fs.writeFile(path.join(data, file), JSON.stringify(content));
  await fs.symlink(`..${version}`, path.join(dir, '..data_tmp'));
  await fs.rename(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
  for (const file of Object.keys(files)) await fs.symlink(`..data/${file}`, path.join(dir, file)).catch(() => undefined);
}

describe('a services.d mounted from a Kubernetes ConfigMap', function () {
  this.timeout(20_000);
  let gw: TestGateway;
  afterEach(() => gw?.close());

  it('follows an update made by swapping the ..data link, and a key added or removed by it', async () => {
    const dir = await makeTempDir('gms-configmap-');
    const servicesDir = path.join(dir, 'services.d');
    await fs.mkdir(servicesDir);
    await fs.mkdir(path.join(dir, 'endpoints.d'));
    await fs.writeFile(path.join(dir, 'endpoints.d', 'gms_builtin.json'), '{}');
    await publish(servicesDir, '2026_11_30_07_00_00.000000001', { 'mounted.json': { ttl: 42 }, 'old.json': {} });
    gw = await startTestGateway({ dir });
    expect(gw.services.get('mounted')!.ttl).to.equal(42);
    expect(gw.services.get('old')).to.not.equal(undefined);

    await publish(servicesDir, '2026_11_30_07_05_00.000000002', { 'mounted.json': { ttl: 84 }, 'added.json': {} });
    // The kubelet removes the links of keys that are gone and the old folder.
    await fs.rm(path.join(servicesDir, 'old.json'));
    await fs.rm(path.join(servicesDir, '..2026_11_30_07_00_00.000000001'), { recursive: true });
    await eventually(() => gw.services.get('mounted')?.ttl === 84, 5000, 'the swapped ttl');
    await eventually(
      () => gw.services.get('added') !== undefined && gw.services.get('old') === undefined,
      5000,
      'the added and removed keys',
    );
    expect((await request(gw.url, 'POST', '/genesys/1/service/added')).status).to.equal(200);
    expect(gw.services.rejected()).to.deep.equal([]);
  });
});
