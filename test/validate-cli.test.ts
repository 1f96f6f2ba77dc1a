// `npm run validate`: checks service files before they are deployed, like `nginx -t`.

import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { built } from './helpers/built.ts';
import { makeTempDir } from './helpers/gateway.ts';

const run = promisify(execFile);
const cli = built('config/validate-cli');

async function validate(...targets: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(process.execPath, [cli, ...targets]);
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, out: e.stdout };
  }
}

describe('npm run validate', () => {
  it('passes the shipped services.d and exits 0', async () => {
    const { code, out } = await validate('services.d');
    expect(code).to.equal(0);
    expect(out).to.match(/^ok\s+services\.d\/request-chat\.json: service 'request-chat' \(ttl 3600s, endpoint gms_builtin\)$/m);
  });

  it("checks the push providers of a push.d folder by the gateway's own rules, secrets read and never shown", async () => {
    const dir = path.join(await makeTempDir(), 'push.d');
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, '..', 'key'), 'a-signing-key-never-printed');
    await fs.writeFile(
      path.join(dir, 'relay.json'),
      '{"kind": "http-callback", "url": "https://push.example.com", "secretFile": "../key"}',
    );
    await fs.writeFile(path.join(dir, 'firebase.yaml'), 'kind: fcm\ncredentialsFile: ../missing.json\n');
    const { code, out } = await validate(dir);
    expect(code).to.equal(1);
    expect(out).to.contain(`ok      ${path.join(dir, 'relay.json')}: provider 'relay'`);
    expect(out).to.contain(`invalid ${dir}/firebase.yaml: credentialsFile: cannot read ../missing.json (ENOENT)`);
    expect(out).not.to.contain('never-printed');
  });

  it('refuses a second file of one name in a folder (x.json and x.yaml) and exits 1', async () => {
    const dir = await makeTempDir();
    await fs.writeFile(path.join(dir, 'x.json'), '{"ttl": 10}');
    await fs.writeFile(path.join(dir, 'x.yaml'), 'ttl: 20\n');
    const { code, out } = await validate(dir);
    expect(code).to.equal(1);
    expect(out).to.contain(`ok      ${path.join(dir, 'x.json')}`);
    expect(out).to.contain(`invalid ${path.join(dir, 'x.yaml')}: 'x' is already defined by x.json; remove one of the two files`);
  });

  it('names the file, field and reason of each problem and exits 1', async () => {
    const dir = await makeTempDir();
    await fs.writeFile(path.join(dir, 'good.json'), '{"ttl": 10}');
    await fs.writeFile(path.join(dir, 'bad.yaml'), 'ttl: 0\ncolour: red\n');
    await fs.writeFile(path.join(dir, 'notes.txt'), 'ignored');
    const { code, out } = await validate(dir);
    expect(code).to.equal(1);
    expect(out).to.contain(`ok      ${path.join(dir, 'good.json')}`);
    expect(out).to.contain(`invalid ${dir}/bad.yaml: ttl: must be >= 1`);
    expect(out).to.contain(`invalid ${dir}/bad.yaml: colour: unknown option (check its spelling)`);
    expect(out).not.to.contain('notes.txt');
  });

  it('checks endpoint files too: everything in an endpoints.d folder, or any file with --endpoints', async () => {
    const shipped = await validate();
    expect(shipped.code).to.equal(0);
    expect(shipped.out).to.match(/^ok\s+endpoints\.d\/gms_builtin\.json: endpoint 'gms_builtin'$/m);
    const dir = await makeTempDir();
    await fs.writeFile(path.join(dir, 'queue.json'), '{"open": "yes"}');
    const { code, out } = await validate('--endpoints', path.join(dir, 'queue.json'));
    expect(code).to.equal(1);
    expect(out).to.match(/queue\.json: open: /);
  });

  it('reads as the gateway does: a FIFO or a link out of the folder is refused at once, without quoting anything', async () => {
    const dir = await makeTempDir();
    await fs.writeFile(path.join(dir, 'good.json'), '{"ttl": 10}');
    execFileSync('mkfifo', [path.join(dir, 'fifo.json')]);
    const outside = path.join(await makeTempDir(), 'secret.json');
    await fs.writeFile(outside, 'TOPSECRET-77 is not JSON');
    await fs.symlink(outside, path.join(dir, 'leak.json'));
    await fs.writeFile(path.join(dir, 'broken.json'), 'TOPSECRET-77 is not JSON');
    const { code, out } = await validate(dir);
    expect(code).to.equal(1);
    expect(out).to.contain(`ok      ${path.join(dir, 'good.json')}`);
    expect(out).to.match(/invalid .*fifo\.json: is not a regular file/);
    expect(out).to.match(/invalid .*leak\.json: is a link to a file outside its folder/);
    expect(out).to.contain('broken.json: not valid JSON');
    expect(out).not.to.contain('TOPSECRET').and.not.to.contain(outside);
  });

  it('exits 1 for a path that does not exist', async () => {
    const { code, out } = await validate('/no/such/folder');
    expect(code).to.equal(1);
    expect(out).to.contain('/no/such/folder: no such file or folder');
  });
});
