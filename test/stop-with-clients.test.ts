// A gateway with CometD clients connected (long-polls held open, websockets) stops at once on SIGTERM:
// it ends their connections instead of waiting for the long-polls to time out.

import { expect } from 'chai';
import { CometD } from 'cometd';
import { adapt } from 'cometd-nodejs-client';
import faye from 'faye';
import { startCustomerChat } from './helpers/chat-client.ts';
import { eventually } from './helpers/gateway.ts';
import { startNode, uniquePrefix, type GatewayNode } from './helpers/redis-nodes.ts';

adapt();

describe('stopping a gateway that has CometD clients connected', function () {
  this.timeout(20_000);
  let node: GatewayNode | undefined;
  const closers: (() => void)[] = [];
  after(async () => {
    for (const close of closers) close();
    await node?.stop();
  });

  it('exits cleanly within a second of SIGTERM, with long-polls and websockets open', async () => {
    node = await startNode('S', { STORE_URL: 'memory://', STORE_PREFIX: uniquePrefix('stop') });
    for (const [user, websocket] of [['ann', false], ['bob', true]] as const) {
      const client = new faye.Client(`${node.url}/genesys/cometd`);
      client.setHeader('gms_user', user);
      if (!websocket) client.disable('websocket');
      closers.push(() => client.disconnect());
      await new Promise<void>((resolve, reject) => client.subscribe('/_genesys', () => undefined).then(() => resolve(), reject));
      await startCustomerChat(node, { headers: { gms_user: user }, start: { notify_by: 'comet' } });
    }
    const cometd = new CometD();
    cometd.unregisterTransport('websocket');
    cometd.configure({ url: `${node.url}/genesys/cometd`, requestHeaders: { gms_user: 'cy' } });
    closers.push(() => cometd.disconnect());
    await new Promise<void>((resolve, reject) => cometd.handshake((m) => (m.successful ? resolve() : reject(new Error(JSON.stringify(m))))));
    // The gateway counts all three: each holds a long-poll (or a websocket) open on it.
    await eventually(async () => / 3$/m.test(((await node!.get('/metrics')).body as string).split('\n').find((l) => l.startsWith('gms_cometd_clients ')) ?? ''), 3000, 'three clients');

    const exited = new Promise<number | null>((resolve) => node!.process.once('exit', (code) => resolve(code)));
    const started = Date.now();
    node.process.kill('SIGTERM');
    expect(await exited).to.equal(0);
    expect(Date.now() - started, node.output()).to.be.below(1000);
  });
});
