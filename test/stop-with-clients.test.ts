// A gateway with CometD clients connected (long-polls held open, websockets) stops at once on SIGTERM:
// it ends their connections instead of waiting for the long-polls to time out.

import net from 'node:net';
import { expect } from 'chai';
import { CometD } from 'cometd';
import { adapt } from 'cometd-nodejs-client';
import faye from 'faye';
import { closeFayeClient } from './helpers/faye-client.ts';
import { startCustomerChat } from './helpers/chat-client.ts';
import { eventually, startTestGateway } from './helpers/gateway.ts';
import { startNode, uniquePrefix, type GatewayNode } from './helpers/redis-nodes.ts';

adapt();

describe('stopping a gateway that has CometD clients connected', function () {
  this.timeout(20_000);
  let node: GatewayNode | undefined;
  const closers: (() => unknown)[] = [];
  after(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
    await node?.stop();
  });

  it('exits cleanly at once on SIGTERM, with long-polls and websockets open, not after their timeout', async () => {
    node = await startNode('S', { STORE_URL: 'memory://', STORE_PREFIX: uniquePrefix('stop') });
    for (const [user, websocket] of [
      ['ann', false],
      ['bob', true],
    ] as const) {
      const client = new faye.Client(`${node.url}/genesys/cometd`);
      client.setHeader('gms_user', user);
      if (!websocket) client.disable('websocket');
      closers.push(() => closeFayeClient(client));
      await new Promise<void>(
        (resolve, reject) => void client.subscribe('/_genesys', () => undefined).then(() => resolve(), reject),
      );
      await startCustomerChat(node, { headers: { gms_user: user }, start: { notify_by: 'comet' } });
    }
    const cometd = new CometD();
    cometd.unregisterTransport('websocket');
    cometd.configure({ url: `${node.url}/genesys/cometd`, requestHeaders: { gms_user: 'cy' } });
    closers.push(() => cometd.disconnect());
    await new Promise<void>((resolve, reject) =>
      cometd.handshake((m) => (m.successful ? resolve() : reject(new Error(JSON.stringify(m))))),
    );
    // The gateway counts all three: each holds a long-poll (or a websocket) open on it.
    await eventually(
      async () =>
        / 3$/m.test(
          ((await node!.get('/metrics')).body as string).split('\n').find((l) => l.startsWith('gms_cometd_clients ')) ?? '',
        ),
      3000,
      'three clients',
    );

    const exited = new Promise<number | null>((resolve) => node!.process.once('exit', (code) => resolve(code)));
    const started = Date.now();
    node.process.kill('SIGTERM');
    expect(await exited).to.equal(0);
    // Waiting for the long-polls would take their 30 s timeout (websockets would never end): 5 s tells the
    // two apart on a loaded machine, where a process may take a second or more just to exit.
    expect(Date.now() - started, node.output()).to.be.below(5000);
  });

  it('a CometD preflight arriving while the gateway stops is answered, telling the client to close', async () => {
    const gw = await startTestGateway();
    const { hostname, port } = new URL(gw.url);
    const socket = net.connect(Number(port), hostname);
    closers.push(() => socket.destroy());
    await new Promise((resolve) => socket.once('connect', resolve));
    let reply = '';
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString()));
    // The request is under way when the stop begins, and completes after it.
    socket.write('OPTIONS /genesys/cometd HTTP/1.1\r\nHost: gateway\r\nOrigin: https://shop.example\r\n');
    const stopping = gw.close();
    await eventually(() => !gw.server.listening, 3000, 'the stop to reach the HTTP server');
    socket.write('Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: gms_user\r\n\r\n');
    await eventually(() => reply.includes('\r\n\r\n'), 3000, 'the answer');
    expect(reply)
      .to.match(/^HTTP\/1\.1 204 /)
      .and.match(/\r\nConnection: close\r\n/i)
      .and.match(/\r\nAccess-Control-Allow-Headers: gms_user/i);
    await stopping;
  });

  /** A raw connection to `gw` on which a request can be started before the stop and completed after it. */
  async function rawConnection(url: string): Promise<{ socket: net.Socket; reply: () => string }> {
    const { hostname, port } = new URL(url);
    const socket = net.connect(Number(port), hostname);
    closers.push(() => socket.destroy());
    await new Promise((resolve) => socket.once('connect', resolve));
    let reply = '';
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString()));
    return { socket, reply: () => reply };
  }

  it("a CometD client's long-poll arriving while the gateway stops is refused (503, Retry-After), so that it reconnects elsewhere", async () => {
    const gw = await startTestGateway();
    const handshake = await gw.post(
      '/genesys/cometd',
      JSON.stringify([{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'] }]),
      { 'content-type': 'application/json' },
    );
    const clientId = (handshake.body as Array<{ clientId: string }>)[0].clientId;
    const connect = JSON.stringify([{ channel: '/meta/connect', clientId, connectionType: 'long-polling' }]);
    const { socket, reply } = await rawConnection(gw.url);
    // The long-poll is under way when the stop begins (as a browser's next poll on a kept-alive connection is).
    socket.write(`POST /genesys/cometd HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n`);
    const started = Date.now();
    const stopping = gw.close();
    await eventually(() => !gw.server.listening, 3000, 'the stop to reach the HTTP server');
    socket.write(`Content-Length: ${Buffer.byteLength(connect)}\r\n\r\n${connect}`);
    await eventually(() => reply().includes('}'), 3000, 'the answer');
    expect(reply())
      .to.match(/^HTTP\/1\.1 503 /)
      .and.match(/\r\nConnection: close\r\n/i)
      .and.match(/\r\nRetry-After: 1\r\n/i)
      .and.match(/"exception":"ServiceUnavailable"/);
    await stopping;
    expect(Date.now() - started).to.be.below(5000);
  });

  it('a request still open at STOP_TIMEOUT_MS is cut off, and the stop completes', async () => {
    const gw = await startTestGateway({ env: { STOP_TIMEOUT_MS: '300' } });
    const { socket } = await rawConnection(gw.url);
    const cut = new Promise((resolve) => socket.once('close', resolve));
    const arrived = new Promise((resolve) => gw.server.once('request', resolve));
    // A body that never arrives in full: the request stays in flight.
    socket.write('POST /genesys/1/service/request-chat HTTP/1.1\r\nHost: gateway\r\nContent-Length: 100\r\n\r\nfirstName=');
    await arrived;
    const started = Date.now();
    await gw.close();
    await cut;
    // REQUEST_TIMEOUT_MS (30 s) would cut it off too: the stop did it well before.
    expect(Date.now() - started).to.be.below(5000);
  });
});
