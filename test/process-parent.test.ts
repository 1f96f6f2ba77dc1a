// No process outlives its purpose: a gateway whose log reader went away still stops, and a test run
// stopped from outside takes the gateway nodes it started with it.

import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { expect } from 'chai';
import { ROOT } from './helpers/built.ts';
import { startNode } from './helpers/redis-nodes.ts';

/** Resolves once no process has `pid` any more. */
async function gone(pid: number): Promise<void> {
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the gateway process and the processes around it', function () {
  this.timeout(30_000);

  it('stops on SIGTERM even when whoever read its log has gone away', async () => {
    const node = await startNode('A', { STORE_URL: 'memory://', STORE_PREFIX: 'log-reader-gone' });
    const exited = new Promise((resolve) => node.process.once('exit', resolve));
    // The reading end of the log pipe closes: every later log line fails with EPIPE.
    node.process.stdout!.destroy();
    node.process.kill('SIGTERM');
    // It exits (mocha's timeout fails the test otherwise): pino's own stream retried the broken write
    // forever at exit, so the process hung.
    await exited;
  });

  it('a test run stopped by SIGTERM takes its gateway nodes with it', async () => {
    const parent = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/fixtures/orphaning-parent.ts')], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = readline.createInterface({ input: parent.stdout });
    const first = await lines[Symbol.asyncIterator]().next();
    const pid = Number(first.value);
    expect(pid).to.be.greaterThan(0);
    await new Promise((resolve) =>
      parent.exitCode === null && parent.signalCode === null ? parent.once('exit', resolve) : resolve(null),
    );
    await gone(pid);
  });
});
