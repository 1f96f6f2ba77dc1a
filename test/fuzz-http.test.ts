// Hostile input, property-based: thousands (under npm run test:fuzz) of random requests (bodies, content types, paths, ids,
// parameters, headers) against every customer and agent route of a real gateway. Whatever arrives,
// the gateway never answers 5xx, every error carries {"message","exception"}, it stays up, and chats
// the requests did not address are left exactly as they were. Fixed seed, bounded counts (a tenth of them in npm test, all under npm run test:fuzz).

import http from 'node:http';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import { hashToken } from '../src/endpoints/token-hash.ts';
import { agentClient, endpointFile, tokenOf } from './helpers/agent-client.ts';
import { startCustomerChat, type CustomerChat } from './helpers/chat-client.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { fuzzRuns } from './helpers/fuzz-runs.ts';

const SEED = 20261125;
/** Stand-ins for a service session and a chat started just before the request is sent. */
const FRESH_SESSION = 'FRESH-SESSION-ID';
const FRESH_CHAT = 'FRESH-CHAT-ID';
const CUSTOMER_RUNS = fuzzRuns(2500);
const AGENT_RUNS = fuzzRuns(1500);

interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

interface RawReply {
  status: number;
  text: string;
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 8 });

function send(base: URL, req: RawRequest): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const r = http.request(
      { host: base.hostname, port: base.port, method: req.method, path: req.path, headers: req.headers, agent: keepAlive },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(req.body);
  });
}

// ---- what hostile clients send ----

const nastyStrings = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  '__defineGetter__',
  'hasOwnProperty',
  'toString',
  'valueOf',
  '../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '....//....//',
  '/etc/passwd',
  'request-chat/../request-chat',
  'request-chat%00.json',
  'request-chat.json',
  '.request-chat',
  'request-chat~',
  '1e308',
  '-1e308',
  '99999999999999999999999999',
  '-1',
  '0x10',
  'NaN',
  'Infinity',
  '1.5',
  '',
  ' ',
  '0',
  '\u0000',
  '\u0007\u001b[31m',
  '\r\nX-Injected: 1',
  '\ud800',
  '\udfff',
  '\u202e\u2066',
  '𝕳𝖊𝖑𝖑𝖔 👋🏽',
  'ß'.repeat(3000),
  'null',
  'true',
  'undefined',
  '[]',
  '{}',
  '{"__proto__":{"polluted":1}}',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '${jndi:ldap://x}',
  'x'.repeat(70_000),
);
const anyString = fc.oneof(
  { weight: 3, arbitrary: nastyStrings },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  {
    weight: 1,
    arbitrary: fc.string({ unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)), maxLength: 10 }),
  },
  { weight: 1, arbitrary: fc.double().map(String) },
  { weight: 1, arbitrary: fc.bigInt().map(String) },
);
const paramKey = fc.oneof(
  fc.constantFrom(
    'message',
    'transcriptPosition',
    '_verbose',
    'notify_by',
    'firstName',
    'lastName',
    'userDisplayName',
    'subject',
    'email',
    'typing',
    'url',
    'text',
    'state',
    '__proto__',
    'constructor',
    'prototype',
    '__proto__[polluted]',
    'constructor.prototype.polluted',
    'a[b][c]',
    '',
  ),
  anyString,
);
const params = fc.dictionary(paramKey, anyString, { maxKeys: 6 });

/** A JSON value that may hide prototype keys, deep nesting, arrays and odd numbers. */
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    anyString,
    fc.constantFrom(1e308, -0, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER, true, false, null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(paramKey, tie('value'), { maxKeys: 3 }),
  ),
})).value;

function form(p: Record<string, string>): string {
  return new URLSearchParams(Object.entries(p)).toString();
}

function multipart(p: Record<string, string>, boundary: string): string {
  const parts = Object.entries(p).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
  return `${parts.join('')}--${boundary}--\r\n`;
}

/** A body and the content type it claims (which may be a lie). */
const bodyAndType: fc.Arbitrary<{ type?: string; body?: Buffer }> = fc.oneof(
  params.map((p) => ({ type: 'application/x-www-form-urlencoded', body: Buffer.from(form(p)) })),
  params.map((p) => ({ type: 'application/json', body: Buffer.from(JSON.stringify(p)) })),
  params.map((p) => ({ type: 'application/x-www-form-urlencoded; charset=UTF-8', body: Buffer.from(JSON.stringify(p)) })),
  params.map((p) => ({ type: 'multipart/form-data; boundary=XyZ', body: Buffer.from(multipart(p, 'XyZ')) })),
  params.map((p) => ({ type: 'multipart/form-data', body: Buffer.from(multipart(p, 'XyZ')) })),
  jsonValue.map((v) => ({ type: 'application/json', body: Buffer.from(JSON.stringify(v) ?? 'undefined') })),
  fc.constant({
    type: 'application/json',
    body: Buffer.from('{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"message":"hi"}'),
  }),
  fc.constant({ type: 'application/json', body: Buffer.from(`${'['.repeat(5000)}${']'.repeat(5000)}`) }),
  fc.constant({ type: 'application/json', body: Buffer.from(`{"a":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}`) }),
  fc.constant({ type: 'application/json', body: Buffer.from(`{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}`) }),
  fc.uint8Array({ maxLength: 300 }).map((b) => ({ type: 'application/x-www-form-urlencoded', body: Buffer.from(b) })),
  fc.uint8Array({ maxLength: 300 }).map((b) => ({ type: 'application/json', body: Buffer.from(b) })),
  fc.constant({
    type: 'application/x-www-form-urlencoded',
    body: Buffer.from([0x6d, 0x65, 0x73, 0x73, 0x61, 0x67, 0x65, 0x3d, 0xc3, 0x28, 0xff, 0xfe]),
  }),
  fc.constant({
    type: 'application/json',
    body: Buffer.from([0x7b, 0x22, 0x6d, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]),
  }),
  fc.constant({ type: 'application/x-www-form-urlencoded', body: Buffer.from('message=%E0%A4%A&%ZZ=%') }),
  fc
    .tuple(
      fc.constantFrom(
        'text/plain',
        'application/xml',
        'text/html',
        'application/octet-stream',
        'application/json; charset=utf-16',
        'application/json; charset=latin1',
        'application/x-www-form-urlencoded; charset=x-unknown',
        'multipart/mixed',
        'multipart/form-data; boundary=',
        'image/png',
        ';;;',
        'application/json, text/plain',
        '*/*',
        'a/b/c',
      ),
      fc.oneof(
        params.map((p) => form(p)),
        fc.string({ maxLength: 200 }),
      ),
    )
    .map(([type, text]) => ({ type, body: Buffer.from(text) })),
  fc.constant({ type: 'application/x-www-form-urlencoded', body: Buffer.from(`message=${'x'.repeat(70_000)}`) }),
  fc.constant({}),
);

/** Percent-encodes every character; a lone surrogate becomes its (invalid UTF-8) WTF-8 bytes. */
function percent(value: string): string {
  let out = '';
  for (const c of value) {
    const code = c.codePointAt(0)!;
    if (code >= 0xd800 && code <= 0xdfff)
      out += `%${(0xe0 | (code >> 12)).toString(16)}%${(0x80 | ((code >> 6) & 0x3f)).toString(16)}%${(0x80 | (code & 0x3f)).toString(16)}`;
    else out += encodeURIComponent(c);
  }
  return out.toUpperCase();
}

/** How a path segment may be written: encoded, raw (traversal survives), or double-encoded. */
function segment(value: string, how: 'encoded' | 'raw' | 'double'): string {
  if (how === 'raw') return value.replace(/[^\x21-\x7e]|[?#]/g, (c) => percent(c));
  const once = percent(value);
  return how === 'double' ? encodeURIComponent(once) : once;
}

const encoding = fc.constantFrom<'encoded' | 'raw' | 'double'>('encoded', 'encoded', 'raw', 'double');
const method = fc.oneof(
  { weight: 12, arbitrary: fc.constant('POST') },
  { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD') },
);
const query = fc.option(
  params.map((p) => `?${form(p)}`),
  { nil: '' },
);

function hostileRequest(
  ids: fc.Arbitrary<string>,
  paths: (id: string) => fc.Arbitrary<string>,
  headers: fc.Arbitrary<Record<string, string>>,
): fc.Arbitrary<RawRequest> {
  return fc
    .record({ method, id: ids, enc: encoding, query, body: bodyAndType, headers })
    .chain((r) => paths(segment(r.id, r.enc)).map((p) => ({ ...r, path: p })))
    .map(({ method: m, path, query: q, body, headers: h }) => ({
      method: m,
      path: path + q,
      headers: {
        ...h,
        ...(body.type !== undefined ? { 'content-type': body.type } : {}),
        // Framed explicitly: without it Node sends a GET or HEAD body unframed, as if a second request.
        ...(body.body !== undefined ? { 'content-length': String(body.body.length) } : {}),
      },
      ...(body.body !== undefined ? { body: body.body } : {}),
    }));
}

const ACTIONS = [
  '',
  '/send',
  '/refresh',
  '/refreshFromStart',
  '/startTyping',
  '/stopTyping',
  '/disconnect',
  '/nope',
  '/send/extra',
];
const AGENT_ACTIONS = [
  '',
  '/accept',
  '/send',
  '/typing',
  '/push-url',
  '/notice',
  '/leave',
  '/nope',
  '/files',
  '/files/F1',
  '/files/F1/delete',
  '/files/../accept',
];
/** Agents of another endpoint: one with an id of its own, one with gms_builtin's agent id but another token. */
const OUTSIDER_TOKENS = ['token-of-mallory-elsewhere', 'token-of-the-other-alice'];

/** What every answer must satisfy, whatever was asked. */
function checkReply(req: RawRequest, reply: RawReply): void {
  const what = `${req.method} ${req.path.slice(0, 120)} → ${reply.status} ${reply.text.slice(0, 200)}`;
  expect(reply.status, what).to.be.below(500);
  if (reply.status >= 400 && req.method !== 'HEAD') {
    const body = JSON.parse(reply.text) as unknown;
    expect(body, what).to.have.all.keys('message', 'exception');
    expect((body as { message: unknown }).message, what).to.be.a('string');
    expect((body as { exception: unknown }).exception, what).to.be.a('string');
  }
}

describe('hostile input (property-based, fixed seed)', function () {
  this.timeout(120_000);
  let gw: TestGateway;
  let base: URL;
  let target: CustomerChat;
  let targetChatId: string;
  let bystanders: string[];
  /** Every chat of gms_builtin the fuzz knows of: bystanders, the target, and each fresh one. */
  const builtinChats = new Set<string>();
  const statuses = new Map<number, number>();
  let tried = 0;

  /** Half the requests aim at a chat started just for them, so that they get past "chat ended" to the code behind. */
  const withFreshIds = async (req: RawRequest): Promise<RawRequest> => {
    if (!req.path.includes(FRESH_SESSION) && !req.path.includes(FRESH_CHAT)) return req;
    const chat = await startCustomerChat(gw);
    builtinChats.add(chat.start.body.chatSessionId as string);
    const path = req.path.replaceAll(FRESH_SESSION, chat.id).replaceAll(FRESH_CHAT, chat.start.body.chatSessionId as string);
    return { ...req, path };
  };

  const snapshot = (): Promise<unknown[]> => Promise.all(bystanders.map((id) => gw.store.get(`session:${id}`)));

  before(async () => {
    gw = await startTestGateway({
      services: { 'request-chat.json': {}, 'owned.json': {} },
      endpoints: {
        'gms_builtin.json': endpointFile(['alice']),
        'elsewhere.json': {
          agents: [
            { id: 'mallory', nickname: 'Mallory', token: hashToken(OUTSIDER_TOKENS[0]) },
            { id: 'alice', nickname: 'Other Alice', token: hashToken(OUTSIDER_TOKENS[1]) },
          ],
        },
      },
    });
    base = new URL(gw.url);
    // Chats nobody in the fuzz may touch: one waiting, one with an agent and messages, one bound to a gms_user.
    const waiting = await startCustomerChat(gw);
    const talking = await startCustomerChat(gw, { start: { userDisplayName: 'Bea' } });
    const alice = agentClient(gw, 'alice');
    expect((await alice.post(`/chats/${talking.start.body.chatSessionId}/accept`)).status).to.equal(200);
    await talking.call('send', { message: 'hello' });
    const owned = await startCustomerChat(gw, { service: 'owned', headers: { gms_user: 'carol' } });
    bystanders = [waiting.id, talking.id, owned.id];
    // The chat the fuzz aims at: it may change, but only through the protocol.
    target = await startCustomerChat(gw);
    targetChatId = target.start.body.chatSessionId as string;
    for (const chat of [waiting, talking, owned, target]) builtinChats.add(chat.start.body.chatSessionId as string);
  });

  after(async () => {
    keepAlive.destroy();
    await gw.close();
    const byStatus = [...statuses.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([s, n]) => `${s}:${n}`)
      .join(' ');
    console.log(`      fuzz: ${tried} requests, by status ${byStatus}`);
  });

  const run = async (
    arb: fc.Arbitrary<RawRequest>,
    numRuns: number,
    extraCheck?: (req: RawRequest, reply: RawReply) => void,
    untouched: () => Promise<unknown[]> = snapshot,
  ): Promise<void> => {
    const before = await untouched();
    const outcome = await fc.check(
      fc.asyncProperty(arb, async (req) => {
        const sent = await withFreshIds(req);
        const reply = await send(base, sent);
        tried++;
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
        checkReply(req, reply);
        extraCheck?.(sent, reply);
      }),
      { seed: SEED, numRuns, endOnFailure: true },
    );
    // Counterexamples can be megabytes of text: show the start of the request and the error.
    if (outcome.failed) {
      const req = JSON.stringify(outcome.counterexample).slice(0, 600);
      throw new Error(
        `failed after ${outcome.numRuns} requests: ${String(outcome.errorInstance).slice(0, 600)}\nrequest: ${req}`,
      );
    }
    expect((await send(base, { method: 'GET', path: '/healthz', headers: {} })).status).to.equal(200);
    expect(await untouched()).to.deep.equal(before);
    expect(Object.prototype, 'prototype pollution').to.not.have.any.keys('polluted', 'a', 'b');
  };

  it('customer routes: never a 5xx, always the error body, bystander chats unchanged', async () => {
    const ids = fc.oneof(
      { weight: 3, arbitrary: fc.constant(target.id) },
      { weight: 3, arbitrary: fc.constant(FRESH_SESSION) },
      { weight: 2, arbitrary: fc.constantFrom('request-chat', 'owned') },
      { weight: 1, arbitrary: fc.constant(randomUUID()) },
      { weight: 3, arbitrary: anyString },
    );
    const paths = (id: string): fc.Arbitrary<string> =>
      fc.oneof(
        { weight: 1, arbitrary: fc.constant(`/genesys/1/service/${id}`) },
        { weight: 4, arbitrary: fc.constantFrom(...ACTIONS).map((a) => `/genesys/1/service/${id}/ixn/chat${a}`) },
        fc.constantFrom(
          `/genesys/1/${id}`,
          `/genesys/${id}/service`,
          `/genesys/1/service/${id}/${id}`,
          '/genesys/1/admin/services',
          '/healthz',
          '/metrics',
          `/${id}`,
        ),
      );
    const headers = fc.record(
      { gms_user: anyString.map((s) => s.replace(/[^\x20-\x7e]/g, '')), origin: fc.constantFrom('https://evil.example', 'null') },
      { requiredKeys: [] },
    );
    await run(hostileRequest(ids, paths, headers), CUSTOMER_RUNS);
  });

  it('agent routes: never a 5xx, always the error body, bystander chats unchanged', async () => {
    const ids = fc.oneof(
      { weight: 3, arbitrary: fc.constant(targetChatId) },
      { weight: 3, arbitrary: fc.constant(FRESH_CHAT) },
      { weight: 1, arbitrary: fc.constant(target.id) },
      { weight: 3, arbitrary: anyString },
    );
    const paths = (id: string): fc.Arbitrary<string> =>
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...AGENT_ACTIONS).map((a) => `/agent/v1/chats/${id}${a}`) },
        fc.constantFrom('/agent/v1/chats', '/agent/v1/me', `/agent/v1/chats?state=${id}`, `/agent/v1/${id}`, `/agent/${id}`),
      );
    const authorization = fc.oneof(
      { weight: 4, arbitrary: fc.constant(`Bearer ${tokenOf('alice')}`) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          'Bearer',
          'Basic YWxpY2U6eA==',
          `bearer   ${tokenOf('alice')}  `,
          `Bearer ${tokenOf('alice')}x`,
          '',
        ),
      },
      { weight: 1, arbitrary: anyString.map((s) => `Bearer ${s.replace(/[^\x21-\x7e]/g, '')}`) },
    );
    const headers = fc.record({ authorization }, { requiredKeys: [] });
    await run(hostileRequest(ids, paths, headers), AGENT_RUNS);
  });

  it('agents of another endpoint, one of them with the same id: nothing of gms_builtin reaches them, nothing of it changes', async () => {
    const ids = fc.oneof(
      { weight: 3, arbitrary: fc.constant(targetChatId) },
      { weight: 3, arbitrary: fc.constant(FRESH_CHAT) },
      { weight: 2, arbitrary: fc.constantFrom(...builtinChats) },
      { weight: 1, arbitrary: anyString },
    );
    const paths = (id: string): fc.Arbitrary<string> =>
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...AGENT_ACTIONS).map((a) => `/agent/v1/chats/${id}${a}`) },
        fc.constantFrom('/agent/v1/chats', '/agent/v1/chats?state=mine', '/agent/v1/chats?state=waiting', '/agent/v1/me'),
      );
    const headers = fc.record({ authorization: fc.constantFrom(...OUTSIDER_TOKENS).map((t) => `Bearer ${t}`) });
    const chatRoute = /^\/agent\/v1\/chats\/[^?]/;
    // The target chat too must stay exactly as it was: none of these agents may change it.
    const everything = (): Promise<unknown[]> =>
      Promise.all([...bystanders, target.id].map((id) => gw.store.get(`session:${id}`)));
    await run(
      hostileRequest(ids, paths, headers),
      Math.ceil(AGENT_RUNS / 3),
      (req, reply) => {
        const what = `${req.method} ${req.path.slice(0, 120)} → ${reply.status} ${reply.text.slice(0, 200)}`;
        if (chatRoute.test(req.path) && req.method !== 'OPTIONS') expect(reply.status, what).to.be.at.least(400);
        // (An error may echo the path it was asked; it must never name a chat the request did not.)
        for (const chatId of builtinChats) if (!req.path.includes(chatId)) expect(reply.text, what).not.to.contain(chatId);
      },
      everything,
    );
  });

  it('requests Node cannot even parse get the error body too', async () => {
    const raw = (bytes: string): Promise<string> =>
      new Promise((resolve) => {
        const socket = net.connect(Number(base.port), base.hostname);
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
        socket.on('close', () => resolve(text));
        socket.on('error', () => resolve(text));
        socket.end(bytes);
      });
    const garbage = await raw('GARBAGE \u0000\u00ff\r\n\r\n');
    expect(garbage).to.match(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(garbage.slice(garbage.indexOf('\r\n\r\n') + 4))).to.have.all.keys('message', 'exception');
    const huge = await raw(`POST /genesys/1/service/request-chat HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(huge).to.match(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(huge.slice(huge.indexOf('\r\n\r\n') + 4)).exception).to.equal('PayloadTooLarge');
    expect((await send(base, { method: 'GET', path: '/healthz', headers: {} })).status).to.equal(200);
  });
});
