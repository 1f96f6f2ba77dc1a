// Hostile Bayeux traffic, property-based: thousands (under npm run test:fuzz) of random and near-miss messages (channels, client
// ids, subscriptions, ext fields, advice, batches, encodings, JSONP) POSTed, GETted and sent over a
// websocket to a real gateway. Whatever arrives, the CometD endpoint never answers 5xx nor a Bayeux
// `500` error, every HTTP refusal carries {"message","exception"}, it never hangs, it stays up, and a
// customer connected meanwhile still gets exactly its own pushes. Fixed seed, bounded counts (a tenth of them in npm test, all under npm run test:fuzz).

import http from 'node:http';
import { expect } from 'chai';
import fc from 'fast-check';
import faye from 'faye';
import WebSocket from 'ws';
import type { ChatPush } from '../src/push/customer-push.ts';
import { closeFayeClient } from './helpers/faye-client.ts';
import { startCustomerChat } from './helpers/chat-client.ts';
import { eventually, startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { fuzzRuns } from './helpers/fuzz-runs.ts';

const SEED = 20261130;
const HTTP_RUNS = fuzzRuns(1500);
const SOCKET_RUNS = fuzzRuns(300);
const KNOWN_CLIENT = 'KNOWN-CLIENT-ID';

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 8 });

function send(
  base: URL,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: base.hostname, port: base.port, method, path, headers, agent: keepAlive, timeout: 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('timeout', () => reject(new Error(`no answer to ${method} ${path}`)));
    req.on('error', reject);
    req.end(body);
  });
}

// ---- what hostile clients send ----

const nasty = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  '',
  ' ',
  '0',
  '-1',
  '1e308',
  'NaN',
  '\u0000',
  '\ud800',
  '\r\nX-Injected: 1',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  'ß'.repeat(300),
  'x'.repeat(5000),
  '𝕳𝖊𝖑𝖑𝖔',
  'null',
  '[]',
  '{}',
);
const channel = fc.oneof(
  fc.constantFrom(
    '/meta/handshake',
    '/meta/connect',
    '/meta/subscribe',
    '/meta/unsubscribe',
    '/meta/disconnect',
    '/meta/',
    '/meta/*',
    '/meta/**',
    '/meta/other',
    '/_genesys',
    '/_genesys/*',
    '/agent/alice',
    '/agent/*',
    '/agent/**',
    '/**',
    '/*',
    '/_private/client/x',
    '/_private/agent/alice/x',
    '/service/x',
    '/',
    '//',
    'meta/handshake',
    '/META/HANDSHAKE',
    '/__proto__',
  ),
  nasty,
  fc.string(),
  fc.anything({ maxDepth: 2 }),
);
const clientId = fc.oneof(fc.constant(KNOWN_CLIENT), nasty, fc.string({ maxLength: 40 }), fc.anything({ maxDepth: 1 }));
const ext = fc.oneof(
  fc.record(
    {
      gms_user: fc.oneof(nasty, fc.string(), fc.anything({ maxDepth: 1 })),
      token: fc.oneof(nasty, fc.constant('token-of-alice-for-tests'), fc.anything({ maxDepth: 1 })),
      transcriptPosition: fc.oneof(
        fc.integer(),
        fc.constantFrom('1', '2', '-1', '1e3', '999999999999999999'),
        fc.anything({ maxDepth: 1 }),
      ),
      secret: fc.oneof(nasty, fc.anything({ maxDepth: 1 })),
    },
    { requiredKeys: [] },
  ),
  fc.anything({ maxDepth: 3 }),
);
const anyMessage = fc.record(
  {
    channel,
    clientId,
    id: fc.oneof(fc.string(), fc.anything({ maxDepth: 1 })),
    version: fc.constantFrom('1.0', '0.9', '', 1),
    supportedConnectionTypes: fc.oneof(
      fc.constant(['long-polling', 'websocket']),
      fc.array(fc.oneof(nasty, fc.string())),
      fc.anything({ maxDepth: 1 }),
    ),
    connectionType: fc.oneof(
      fc.constantFrom('long-polling', 'websocket', 'callback-polling', 'eventsource', 'in-process'),
      nasty,
    ),
    subscription: fc.oneof(channel, fc.array(channel, { maxLength: 4 })),
    ext,
    advice: fc.oneof(
      fc.record(
        { timeout: fc.oneof(fc.integer(), fc.double(), nasty), interval: fc.anything({ maxDepth: 1 }) },
        { requiredKeys: [] },
      ),
      fc.anything({ maxDepth: 2 }),
    ),
    data: fc.anything({ maxDepth: 4 }),
  },
  { requiredKeys: ['channel'] },
);
// A long-poll of the real client would be held for the server's whole timeout: it asks for none.
const message = anyMessage.map((m) =>
  m.channel === '/meta/connect' && m.clientId === KNOWN_CLIENT ? { ...m, advice: { timeout: 0 } } : m,
);
/** What one request or frame carries: a batch, one message, or any JSON at all. */
const payload = fc.oneof(
  { weight: 5, arbitrary: fc.array(message, { maxLength: 6 }) },
  { weight: 2, arbitrary: message },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '[',
      '[{"channel":',
      '[{}]]',
      '\u0000',
      '',
      '{"channel":"/meta/handshake"',
      '['.repeat(100) + ']'.repeat(100),
    ),
  },
);

interface Encoded {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

const encoded = fc
  .record({
    payload,
    how: fc.constantFrom('json', 'form', 'text', 'none', 'get', 'jsonp'),
    jsonp: fc.oneof(fc.constant('cb'), nasty, fc.string()),
    gmsUser: fc.option(
      fc.oneof(
        fc.constantFrom('fuzz', 'victim'),
        fc.string({ minLength: 1, maxLength: 300 }).filter((s) => /^[\x21-\x7e]*$/.test(s)),
      ),
      { nil: undefined },
    ),
    origin: fc.option(fc.constantFrom('http://evil.example', 'null'), { nil: undefined }),
    path: fc.constantFrom(
      '/genesys/cometd',
      '/genesys/cometd/',
      '/genesys/cometd/x',
      '/genesys/cometd/x.js',
      '/genesys/cometd/client.js',
      '/genesys/cometd/..%2f',
    ),
  })
  .map(
    ({
      payload: p,
      how,
      jsonp,
      gmsUser,
      origin,
      path,
    }): { text: string; how: string; request: (clientId: string) => Encoded } => {
      const text = typeof p === 'string' ? p : (JSON.stringify(p) ?? 'null');
      return {
        text,
        how: `${how} ${path} jsonp=${jsonp} gms_user=${gmsUser} origin=${origin}`,
        request: (known) => {
          const json = text.replaceAll(KNOWN_CLIENT, known);
          const headers: Record<string, string> = {};
          if (gmsUser !== undefined) headers.gms_user = gmsUser;
          if (origin !== undefined) headers.origin = origin;
          if (how === 'get' || how === 'jsonp') {
            const query = new URLSearchParams({ message: json, ...(how === 'jsonp' ? { jsonp } : {}) });
            return { method: 'GET', path: `${path}?${query}`, headers };
          }
          const body = how === 'form' ? `message=${encodeURIComponent(json)}` : json;
          if (how === 'json') headers['content-type'] = 'application/json';
          if (how === 'form') headers['content-type'] = 'application/x-www-form-urlencoded';
          if (how === 'text') headers['content-type'] = 'text/plain';
          return { method: 'POST', path, headers, body: Buffer.from(body) };
        },
      };
    },
  );

describe('fuzz: hostile Bayeux messages against the CometD endpoint', function () {
  this.timeout(240_000);
  let gw: TestGateway;
  let base: URL;
  let victim: InstanceType<typeof faye.Client>;
  const pushes: ChatPush[] = [];

  before(async () => {
    gw = await startTestGateway();
    base = new URL(gw.url);
    victim = new faye.Client(`${gw.url}/genesys/cometd`);
    victim.setHeader('gms_user', 'victim');
    await new Promise<void>(
      (resolve, reject) =>
        void victim
          .subscribe('/_genesys', (data: unknown) => pushes.push(data as ChatPush))
          .then(
            () => resolve(),
            (err) => reject(new Error(err.message)),
          ),
    );
  });
  after(async () => {
    if (victim) await closeFayeClient(victim);
    await gw.close();
  });

  /** A customer's client id, handshaken for each run, so that messages naming it reach real clients. */
  async function knownClient(): Promise<string> {
    const reply = await send(
      base,
      'POST',
      '/genesys/cometd',
      { 'content-type': 'application/json', gms_user: 'fuzz' },
      Buffer.from(JSON.stringify([{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'] }])),
    );
    return (JSON.parse(reply.text) as { clientId: string }[])[0].clientId;
  }

  it('over HTTP: never a 5xx, a Bayeux 500 or a hang; every refusal carries the error body', async () => {
    let known = await knownClient();
    await fc.assert(
      fc.asyncProperty(encoded, async ({ request }) => {
        const req = request(known);
        const reply = await send(base, req.method, req.path, req.headers, req.body);
        expect(reply.status, reply.text).to.be.below(500);
        if (reply.status >= 400) expect(JSON.parse(reply.text), reply.text).to.have.all.keys('message', 'exception');
        if (reply.status === 200 && reply.type.startsWith('application/json')) {
          for (const m of JSON.parse(reply.text) as { error?: string }[]) expect(String(m?.error ?? '')).to.not.match(/^500:/);
        }
        if (req.body && req.body.includes('/meta/disconnect')) known = await knownClient();
      }),
      { seed: SEED, numRuns: HTTP_RUNS, endOnFailure: true },
    );
    expect(Object.prototype).to.not.have.property('polluted');
  });

  it('over a websocket: a frame faye cannot read closes its socket with 1007 and the reason; no frame crashes the gateway, draws a Bayeux 500 or prints on the console', async () => {
    const replies: unknown[] = [];
    const open = async (): Promise<{ socket: WebSocket; closed: Promise<{ code: number; reason: string }> }> => {
      const socket = new WebSocket(`${gw.url.replace('http', 'ws')}/genesys/cometd`);
      socket.on('error', () => undefined);
      socket.on('message', (data: Buffer) => replies.push(JSON.parse(data.toString())));
      const closed = new Promise<{ code: number; reason: string }>((resolve) =>
        socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
      );
      await new Promise<void>((resolve) => socket.once('open', () => resolve()));
      return { socket, closed };
    };
    // faye prints the stack of what it cannot parse with console.log; nothing may reach it.
    const printed: unknown[][] = [];
    const consoleLog = console.log;
    console.log = (...args: unknown[]) => void printed.push(args);
    let ws = await open();
    let refused = 0;
    try {
      await fc.assert(
        fc.asyncProperty(encoded, async ({ text }) => {
          if (ws.socket.readyState !== WebSocket.OPEN) ws = await open();
          ws.socket.send(text);
          if (fayeReads(Buffer.from(text).toString('utf8'))) return;
          let timer: NodeJS.Timeout | undefined;
          const { code, reason } = await Promise.race([
            ws.closed,
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new Error(`still open after ${JSON.stringify(text).slice(0, 80)}`)), 5000);
            }),
          ]).finally(() => clearTimeout(timer));
          expect(code).to.equal(1007);
          expect(reason).to.match(/^(The Bayeux message is not valid JSON|A Bayeux request holds a message object)/);
          refused++;
        }),
        { seed: SEED + 1, numRuns: SOCKET_RUNS },
      );
    } finally {
      console.log = consoleLog;
    }
    expect(printed).to.deep.equal([]);
    expect(refused, 'cases that faye cannot read').to.be.greaterThan(0);
    // A final handshake is answered: the frames before did not wedge the endpoint.
    if (ws.socket.readyState !== WebSocket.OPEN) ws = await open();
    const before = replies.length;
    ws.socket.send(
      JSON.stringify([
        { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['websocket'], ext: { gms_user: 'ws-fuzz' } },
      ]),
    );
    await eventually(() => replies.length > before, 5000, 'the last handshake to be answered');
    for (const reply of replies) {
      for (const m of [reply].flat() as { error?: string }[]) expect(String(m?.error ?? '')).to.not.match(/^500:/);
    }
    ws.socket.close();
  });

  it('after it all, a customer still gets exactly its own pushes', async () => {
    const chat = await startCustomerChat(gw, { headers: { gms_user: 'victim' }, start: { notify_by: 'comet' } });
    await chat.call('send', { message: 'still here' });
    await eventually(() => pushes.length >= 2, 5000, "the victim's pushes");
    expect(pushes.every((p) => p.tag.endsWith(chat.id))).to.equal(true);
    expect(pushes.flatMap((p) => p.message.transcriptToShow.map((e) => e[2]))).to.deep.equal([
      'has joined the session',
      'still here',
    ]);
  });
});

/** What faye's websocket transport can take: JSON holding a message object or an array of message objects. */
function fayeReads(text: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  const isMessage = (m: unknown): boolean => typeof m === 'object' && m !== null && !Array.isArray(m);
  return isMessage(value) || (Array.isArray(value) && value.every(isMessage));
}
