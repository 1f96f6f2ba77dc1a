// A gateway process meets an error its code did not handle: a failed promise nobody awaited is logged
// and the gateway carries on serving; an uncaught exception is logged, the gateway stops as cleanly as
// it can, and the process exits non-zero for its supervisor to restart it.

import path from 'node:path';
import { expect } from 'chai';
import { eventually } from './helpers/gateway.ts';
import { startNode, uniquePrefix, type GatewayNode } from './helpers/redis-nodes.ts';

const FIXTURE = path.resolve(import.meta.dirname, 'fixtures', 'stray-error.mjs');

function startWithStrayError(kind: 'rejection' | 'exception'): Promise<GatewayNode> {
  return startNode(kind, {
    STORE_URL: 'memory://',
    STORE_PREFIX: uniquePrefix(kind),
    STRAY_ERROR: kind,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${FIXTURE}`.trim(),
  });
}

describe('a gateway process and errors nothing handled', function () {
  this.timeout(20_000);
  let node: GatewayNode | undefined;
  afterEach(() => node?.stop());

  it('logs a failed promise that nobody awaited as an error, and keeps serving chats', async () => {
    node = await startWithStrayError('rejection');
    node.process.kill('SIGUSR2');
    const logged = await eventually(
      () => node!.logLines().find((l) => JSON.stringify(l.err ?? '').includes('stray rejection raised by the test')),
      5000,
      'the rejection logged',
    );
    expect(logged?.level).to.equal(50);
    expect(logged?.msg).to.equal('a background task failed and nothing handled it; the gateway carries on');
    expect(node.alive()).to.equal(true);
    expect((await node.post('/genesys/1/service/request-chat')).status).to.equal(200);
  });

  it('logs an uncaught exception, stops cleanly and exits with a non-zero code', async () => {
    node = await startWithStrayError('exception');
    const exited = new Promise<number | null>((resolve) => node!.process.once('exit', (code) => resolve(code)));
    node.process.kill('SIGUSR2');
    expect(await exited).to.equal(1);
    const logged = node.logLines();
    const fatal = logged.find((l) => l.level === 60);
    expect(fatal?.msg).to.equal('an unexpected error: the gateway stops and must be restarted');
    expect(fatal?.err).to.contain('stray exception raised by the test');
    expect(logged.map((l) => l.msg)).to.include('stopped after the unexpected error');
  });
});
