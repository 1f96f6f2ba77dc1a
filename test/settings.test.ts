// Settings checked at start: the real entry point, started with bad values, names each one on a line of
// its own and exits 2 before anything starts (no stack trace, no port opened, no store file written).

import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { GATEWAY_MAIN, ROOT } from './helpers/built.ts';
import { makeTempDir } from './helpers/gateway.ts';

const run = promisify(execFile);

/** Runs the gateway (dist/main.js) with `env` over a clean environment; the gateway must not start. */
async function startWith(env: Record<string, string>): Promise<{ code: number; lines: string[]; dir: string }> {
  const dir = await makeTempDir();
  const base = {
    PATH: process.env.PATH ?? '',
    PORT: '0',
    HOST: '127.0.0.1',
    STORE_URL: `sqlite://${path.join(dir, 's.sqlite')}`,
  };
  try {
    await run(process.execPath, [GATEWAY_MAIN], {
      cwd: ROOT,
      env: { ...base, ...env },
      timeout: 20_000,
    });
    throw new Error('the gateway started');
  } catch (err) {
    const { code, stdout, stderr } = err as { code: unknown; stdout: string; stderr: string };
    if (typeof code !== 'number') throw err;
    expect(stdout).to.equal('');
    return { code, lines: stderr.trimEnd().split('\n'), dir };
  }
}

describe('settings checked at start', () => {
  it('PORT=abc: one line naming the setting, its value and what it must be, and exit code 2', async () => {
    const { code, lines, dir } = await startWith({ PORT: 'abc' });
    expect({ code, lines }).to.deep.equal({
      code: 2,
      lines: ['gateway not started: setting PORT="abc": must be a whole number from 0 to 65535'],
    });
    expect(await fs.readdir(dir)).to.deep.equal([]);
  });

  it('LOG_LEVEL=loud names the levels there are', async () => {
    const { code, lines } = await startWith({ LOG_LEVEL: 'loud' });
    expect({ code, lines }).to.deep.equal({
      code: 2,
      lines: ['gateway not started: setting LOG_LEVEL="loud": must be one of trace, debug, info, warn, error, fatal, silent'],
    });
  });

  it('every bad value is reported at once, one line each, none with a stack trace', async () => {
    const { code, lines } = await startWith({
      PORT: '99999',
      STORE_URL: 'mysql://db/chats',
      BODY_LIMIT_BYTES: '1.5',
      TRUST_PROXY: 'maybe',
      ADMIN_TOKENS_FILE: '/nonexistent/admin-tokens',
    });
    expect(code).to.equal(2);
    expect(lines).to.deep.equal([
      'gateway not started: setting PORT="99999": must be a whole number from 0 to 65535',
      'gateway not started: setting STORE_URL="mysql://db/chats": must be sqlite://<file>, memory:// or redis://host:port',
      'gateway not started: setting BODY_LIMIT_BYTES="1.5": must be a whole number of at least 1',
      'gateway not started: setting TRUST_PROXY="maybe": must be true or false',
      'gateway not started: setting ADMIN_TOKENS_FILE: cannot read /nonexistent/admin-tokens (ENOENT)',
    ]);
  });
});
