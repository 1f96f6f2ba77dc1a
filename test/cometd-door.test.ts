// The CometD door held to the same bounds as the Chat API, tried as an attacker would with raw HTTP and
// websocket clients against a real gateway: bodies, batches, nesting and websocket messages bounded;
// per-address message rates and live clients; CORS_ORIGINS on every request, JSONP and upgrades; faye's
// static files by name only; one gms_user length.

import http from 'node:http';
import { expect } from 'chai';
import WebSocket from 'ws';
import { MAX_GMS_USER_LENGTH } from '../src/chat/gms-user.ts';
import { startCustomerChat } from './helpers/chat-client.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';

const PATH = '/genesys/cometd';

interface RawReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** One raw HTTP request: the body is written as given (several chunks, a lying length), never buffered by a library. */
function raw(
  gw: TestGateway,
  options: {
    method?: string;
    path?: string;
    headers?: Record<string, string | number>;
    chunks?: (string | Buffer)[];
    end?: boolean;
  },
): Promise<RawReply> {
  const url = new URL(gw.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: options.method ?? 'POST',
        path: options.path ?? PATH,
        headers: options.headers ?? {},
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    // The server may close while we still write: the answer it sent first is what counts.
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    for (const chunk of options.chunks ?? []) req.write(chunk);
    if (options.end !== false) req.end();
  });
}

async function bayeux(
  gw: TestGateway,
  messages: unknown,
  headers: Record<string, string> = {},
): Promise<RawReply & { json: () => Array<Record<string, unknown>> }> {
  const reply = await raw(gw, {
    headers: { 'content-type': 'application/json', ...headers },
    chunks: [JSON.stringify(messages)],
  });
  return { ...reply, json: () => JSON.parse(reply.text) as Array<Record<string, unknown>> };
}

const handshake = (ext?: object): object => ({
  channel: '/meta/handshake',
  version: '1.0',
  supportedConnectionTypes: ['long-polling', 'websocket'],
  ...(ext ? { ext } : {}),
});

function nested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = { v: value };
  return value;
}

/** The gateway still handshakes a customer: nothing above stopped or wedged it. */
async function stillServes(gw: TestGateway): Promise<void> {
  const reply = await bayeux(gw, [handshake()], { gms_user: 'after' });
  expect(reply.status).to.equal(200);
  expect(reply.json()[0].successful).to.equal(true);
}

describe('CometD door: bodies, batches and nesting are bounded before faye reads them', function () {
  let gw: TestGateway;
  beforeEach(async () => {
    gw = await startTestGateway({ env: { BODY_LIMIT_BYTES: '65536', COMETD_MAX_MESSAGES: '100' } });
  });
  afterEach(() => gw.close());

  it('a body announced larger than BODY_LIMIT_BYTES is refused with 413 before any of it is read', async () => {
    const reply = await raw(gw, {
      headers: { 'content-type': 'application/json', 'content-length': 600 * 1024 * 1024 },
      chunks: ['[' + ' '.repeat(1024)],
      end: false,
    });
    expect(reply.status).to.equal(413);
    expect(JSON.parse(reply.text)).to.deep.equal({
      message: 'The body is larger than 65536 bytes.',
      exception: 'PayloadTooLarge',
    });
    await stillServes(gw);
  });

  it('a chunked body that grows past BODY_LIMIT_BYTES is refused with 413 as soon as it does', async () => {
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    // Never ended: the answer must come from the bytes counted, not from the end of the body.
    const reply = await raw(gw, {
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      chunks: Array(8).fill(chunk),
      end: false,
    });
    expect(reply.status).to.equal(413);
    expect(JSON.parse(reply.text).exception).to.equal('PayloadTooLarge');
    await stillServes(gw);
  });

  it('a form-encoded body is bounded the same way', async () => {
    const reply = await raw(gw, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      chunks: ['message=' + 'x'.repeat(70_000)],
    });
    expect(reply.status).to.equal(413);
  });

  it('2,000 handshakes in one POST are refused whole (400) and create no client; 100 are accepted', async () => {
    await gw.close();
    // A body limit that lets 2,000 handshakes in: the count is what refuses them.
    gw = await startTestGateway({ env: { BODY_LIMIT_BYTES: String(1024 * 1024), COMETD_MAX_MESSAGES: '100' } });
    const flood = await bayeux(gw, Array(2000).fill(handshake()), { gms_user: 'flood' });
    expect(flood.status).to.equal(400);
    expect(JSON.parse(flood.text)).to.deep.equal({
      message: 'More than 100 Bayeux messages in one request.',
      exception: 'InvalidParameter',
    });
    expect(gw.cometd.clients()).to.equal(0);

    const batch = await bayeux(gw, Array(100).fill(handshake()), { gms_user: 'batch' });
    expect(batch.status).to.equal(200);
    expect(batch.json().filter((m) => m.successful)).to.have.length(100);
  });

  it('JSON nested deeper than 32 levels is refused with 400, over HTTP and over websocket, and never crashes', async () => {
    const deep = await bayeux(gw, [handshake({ gms_user: 'deep', extra: nested(40) })]);
    expect(deep.status).to.equal(400);
    expect(JSON.parse(deep.text).exception).to.equal('InvalidParameter');
    const veryDeep = await raw(gw, {
      headers: { 'content-type': 'application/json' },
      chunks: ['['.repeat(30_000) + ']'.repeat(30_000)],
    });
    expect(veryDeep.status).to.equal(400);
    const shallow = await bayeux(gw, [handshake({ gms_user: 'shallow', extra: nested(20) })]);
    expect(shallow.json()[0].successful).to.equal(true);

    const ws = await openSocket(gw);
    const [reply] = await ws.exchange([handshake({ gms_user: 'deep', extra: nested(40) })]);
    expect(reply.successful).to.equal(false);
    expect(reply.error).to.match(/^400::.*nest deeper/);
    ws.close();
    await stillServes(gw);
  });

  it('a websocket message of more than COMETD_MAX_MESSAGES messages: the ones past the limit are refused and create no client', async () => {
    const ws = await openSocket(gw);
    const replies = await ws.exchange(Array(150).fill(handshake({ gms_user: 'ws-batch' })));
    expect(replies.filter((m) => m.successful)).to.have.length(100);
    expect(replies.filter((m) => /^400::More than 100 messages/.test(String(m.error)))).to.have.length(50);
    expect(gw.cometd.clients()).to.equal(100);
    ws.close();
  });

  it('a websocket message larger than BODY_LIMIT_BYTES closes the socket with 1009 before it is assembled', async () => {
    const ws = await openSocket(gw);
    const [ok] = await ws.exchange([handshake({ gms_user: 'ws' })]);
    expect(ok.successful).to.equal(true);
    ws.socket.send(JSON.stringify([handshake({ gms_user: 'x'.repeat(70_000) })]));
    expect(await ws.closed).to.equal(1009);
    await stillServes(gw);
  });

  it('a websocket message that is not JSON, or not message objects, closes its socket with 1007 instead of vanishing', async () => {
    for (const text of ['{"channel":', '[null]', '42', '[{"channel":"/meta/connect"}, 7]']) {
      const ws = await openSocket(gw);
      const [ok] = await ws.exchange([handshake({ gms_user: 'ws' })]);
      expect(ok.successful).to.equal(true);
      ws.socket.send(text);
      expect(await ws.closed, text).to.equal(1007);
    }
    await stillServes(gw);
  });

  it("a bare GET or an empty POST gets a 400 error body, not faye's plain text", async () => {
    const get = await raw(gw, { method: 'GET' });
    expect(get.status).to.equal(400);
    expect(JSON.parse(get.text).exception).to.equal('InvalidParameter');
    const empty = await raw(gw, { headers: { 'content-type': 'application/json' } });
    expect(empty.status).to.equal(400);
  });
});

describe('CometD door: per-address limits', function () {
  let gw: TestGateway;
  afterEach(() => gw.close());

  it('handshakes and messages over the address rate are refused with 429 and advice to retry later', async () => {
    gw = await startTestGateway({ env: { RATE_LIMIT_EXEMPT: '', RATE_LIMIT_IP_PER_SEC: '1', RATE_LIMIT_IP_BURST: '5' } });
    const replies = [];
    for (let i = 0; i < 8; i++) replies.push((await bayeux(gw, [handshake()], { gms_user: `u${i}` })).json()[0]);
    expect(replies.slice(0, 5).every((m) => m.successful)).to.equal(true);
    const refused = replies.slice(5);
    expect(refused.every((m) => m.successful === false && /^429:\d+:Too many messages/.test(String(m.error)))).to.equal(true);
    expect(refused[0].advice).to.deep.include({ reconnect: 'handshake' });
    expect((refused[0].advice as { interval: number }).interval).to.be.at.least(1000);
    expect(gw.cometd.clients()).to.equal(5);
  });

  it('one POST of 100 /meta/disconnect messages takes 100 tokens and marks the customer away once', async () => {
    gw = await startTestGateway({ env: { RATE_LIMIT_EXEMPT: '', RATE_LIMIT_IP_PER_SEC: '1', RATE_LIMIT_IP_BURST: '150' } });
    await startCustomerChat(gw, { headers: { gms_user: 'ann' }, start: { notify_by: 'comet' } });
    let marks = 0;
    const markAway = gw.domain.markAway.bind(gw.domain);
    gw.domain.markAway = (serviceId, position) => (marks++, markAway(serviceId, position));
    const [shake] = (await bayeux(gw, [handshake()], { gms_user: 'ann' })).json();
    const disconnects = Array.from({ length: 100 }, () => ({
      channel: '/meta/disconnect',
      clientId: shake.clientId,
      ext: { transcriptPosition: '1' },
    }));
    const reply = await bayeux(gw, disconnects, { gms_user: 'ann' });
    expect(reply.status).to.equal(200);
    expect(marks).to.equal(1);
    // The client id is gone now: the next batch names the customer by its header, and is marked once too.
    await bayeux(gw, disconnects, { gms_user: 'ann' });
    expect(marks).to.equal(2);
    // 201 of 150 tokens (and a few refilled) asked for: the address must now wait.
    const [after] = (await bayeux(gw, [handshake()], { gms_user: 'ann' })).json();
    expect(after.error).to.match(/^429:/);
  });

  it('an address holds at most COMETD_MAX_CLIENTS_PER_IP live clients; one that leaves frees its place', async () => {
    gw = await startTestGateway({ env: { RATE_LIMIT_EXEMPT: '', COMETD_MAX_CLIENTS_PER_IP: '3' } });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const [m] = (await bayeux(gw, [handshake()], { gms_user: `c${i}` })).json();
      expect(m.successful).to.equal(true);
      ids.push(m.clientId as string);
    }
    const [fourth] = (await bayeux(gw, [handshake()], { gms_user: 'c3' })).json();
    expect(fourth.successful).to.equal(false);
    expect(fourth.error).to.match(/^429:\d+:This address already holds 3 CometD clients/);
    const batch = (await bayeux(gw, [handshake(), handshake()], { gms_user: 'c4' })).json();
    expect(batch.some((m) => m.successful)).to.equal(false);

    const [left] = (await bayeux(gw, [{ channel: '/meta/disconnect', clientId: ids[0] }])).json();
    expect(left.successful).to.equal(true);
    const [fifth] = (await bayeux(gw, [handshake()], { gms_user: 'c5' })).json();
    expect(fifth.successful).to.equal(true);
    expect(gw.cometd.clients()).to.equal(3);
  });

  it('the loopback exemption applies to CometD as to the API', async () => {
    gw = await startTestGateway({
      env: { RATE_LIMIT_IP_PER_SEC: '1', RATE_LIMIT_IP_BURST: '1', COMETD_MAX_CLIENTS_PER_IP: '1' },
    });
    const replies = (await bayeux(gw, [handshake(), handshake(), handshake()], { gms_user: 'local' })).json();
    expect(replies.every((m) => m.successful)).to.equal(true);
  });
});

describe('CometD door: CORS_ORIGINS on requests, JSONP and websocket upgrades', function () {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ env: { CORS_ORIGINS: 'http://shop.example' } });
  });
  after(() => gw.close());

  it('a request from an origin not allowed is refused (403) and gets no CORS headers; an allowed one is answered to that origin', async () => {
    const evil = await bayeux(gw, [handshake()], { gms_user: 'x', origin: 'http://evil.example' });
    expect(evil.status).to.equal(403);
    expect(JSON.parse(evil.text).exception).to.equal('Forbidden');
    expect(evil.headers['access-control-allow-origin']).to.equal(undefined);

    const shop = await bayeux(gw, [handshake()], { gms_user: 'x', origin: 'http://shop.example' });
    expect(shop.status).to.equal(200);
    expect(shop.headers['access-control-allow-origin']).to.equal('http://shop.example');

    // The gateway's own pages (the demo, the agent console) are always their own origin.
    const own = await bayeux(gw, [handshake()], { gms_user: 'x', origin: gw.url });
    expect(own.status).to.equal(200);

    const preflight = await raw(gw, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers['access-control-allow-origin']).to.equal(undefined);
  });

  it('JSONP is answered only to a page of an allowed origin (by Origin or Referer), never to a page that hides it', async () => {
    const message = encodeURIComponent(JSON.stringify([handshake({ gms_user: 'jsonp' })]));
    const path = `${PATH}?message=${message}&jsonp=cb`;
    const hidden = await raw(gw, { method: 'GET', path });
    expect(hidden.status).to.equal(403);
    const evil = await raw(gw, { method: 'GET', path, headers: { referer: 'http://evil.example/page' } });
    expect(evil.status).to.equal(403);
    const shop = await raw(gw, { method: 'GET', path, headers: { referer: 'http://shop.example/chat' } });
    expect(shop.status).to.equal(200);
    expect(shop.text).to.match(/^\/\*\*\/cb\(/);
  });

  it('a websocket upgrade from an origin not allowed is refused with 403; an allowed origin and a client without Origin connect', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${gw.url.replace('http', 'ws')}${PATH}`, { origin: 'http://evil.example' });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => reject(new Error('the upgrade was accepted')));
      ws.on('error', () => undefined);
    });
    expect(status).to.equal(403);
    for (const origin of ['http://shop.example', undefined]) {
      const ws = await openSocket(gw, origin);
      const [reply] = await ws.exchange([handshake({ gms_user: 'ws' })]);
      expect(reply.successful).to.equal(true);
      ws.close();
    }
  });
});

describe('CometD door: static files and gms_user', function () {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
  });
  after(() => gw.close());

  it("faye's client script is served under its names; any other file name is a 404 error body", async () => {
    const script = await raw(gw, { method: 'GET', path: `${PATH}/client.js` });
    expect(script.status).to.equal(200);
    expect(script.text).to.include('Faye');
    for (let i = 0; i < 50; i++) {
      const missing = await raw(gw, { method: 'GET', path: `${PATH}/missing-${i}.js` });
      expect(missing.status).to.equal(404);
      expect(JSON.parse(missing.text).exception).to.equal('NotFound');
    }
    const traversal = await raw(gw, { method: 'GET', path: `${PATH}/..%2f..%2fpackage.json.map` });
    expect(traversal.status).to.equal(404);
  });

  it(`a gms_user longer than ${MAX_GMS_USER_LENGTH} characters is refused, in the header, in ext, and bound late`, async () => {
    const long = 'u'.repeat(MAX_GMS_USER_LENGTH + 1);
    expect((await bayeux(gw, [handshake()], { gms_user: long })).json()[0].error).to.match(/^400::gms_user is longer than 256/);
    expect((await bayeux(gw, [handshake({ gms_user: long })])).json()[0].successful).to.equal(false);
    const [anonymous] = (await bayeux(gw, [handshake()])).json();
    const [late] = (
      await bayeux(gw, [{ channel: '/meta/subscribe', clientId: anonymous.clientId, subscription: '/_genesys' }], {
        gms_user: long,
      })
    ).json();
    expect(late.successful).to.equal(false);
    expect((await bayeux(gw, [handshake()], { gms_user: 'u'.repeat(MAX_GMS_USER_LENGTH) })).json()[0].successful).to.equal(true);
  });
});

/** A raw websocket to the Bayeux endpoint: Bayeux messages out, their replies back, the close code. */
async function openSocket(
  gw: TestGateway,
  origin?: string,
): Promise<{
  socket: WebSocket;
  exchange(messages: unknown[]): Promise<Array<Record<string, unknown>>>;
  closed: Promise<number>;
  close(): void;
}> {
  const socket = new WebSocket(`${gw.url.replace('http', 'ws')}${PATH}`, origin ? { origin } : {});
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
  return {
    socket,
    closed,
    exchange: (messages) =>
      new Promise((resolve) => {
        socket.once('message', (data: Buffer) => resolve(JSON.parse(data.toString()) as Array<Record<string, unknown>>));
        socket.send(JSON.stringify(messages));
      }),
    close: () => socket.close(),
  };
}
