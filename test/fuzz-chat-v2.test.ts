// Hostile input on Chat API Version 2, property-based: random requests (methods, ids, credentials,
// parameters, bodies of every shape, file uploads) against every v2 route of a real gateway. Whatever
// arrives, the gateway never answers 5xx, every error is v2's envelope, and a chat the requests do not
// hold the keys of is left exactly as it was. Fixed seed, bounded count (a tenth in npm test, all under npm run test:fuzz).

import { expect } from 'chai';
import fc from 'fast-check';
import { agentClient, endpointFile } from './helpers/agent-client.ts';
import { startV2Chat, type V2Chat } from './helpers/chat-v2-client.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { fuzzRuns } from './helpers/fuzz-runs.ts';

const SEED = 20261130;
const RUNS = fuzzRuns(600);
const ACTIONS = [
  '',
  '/',
  '/refresh',
  '/send',
  '/startTyping',
  '/stopTyping',
  '/disconnect',
  '/updateNickname',
  '/customNotice',
  '/pushUrl',
  '/updateData',
  '/readReceipt',
  '/file/limits',
  '/file',
  '/file/ABC/download',
  '/file/ABC/delete',
  '/file/../refresh',
  '/nope',
];
const nasty = fc.constantFrom(
  '__proto__',
  'constructor',
  '',
  ' ',
  '-1',
  '1e308',
  'NaN',
  '0',
  '99999999999999999999',
  '../../etc/passwd',
  '\u0000',
  '\r\nX: 1',
  '\ud800',
  '<script>alert(1)</script>',
  'javascript:alert(1)',
  'ß'.repeat(5000),
  '{"a":',
  'userData[x]',
);
const text = fc.oneof(nasty, fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }));
const key = fc.oneof(
  fc.constantFrom(
    'message',
    'transcriptPosition',
    'nickname',
    'firstName',
    'pushUrl',
    'userId',
    'secureKey',
    'alias',
    'userData',
    'text',
    'messageType',
  ),
  fc.constantFrom(
    'userData[a]',
    'userData["b"]',
    'userData[__proto__]',
    'userData[]',
    'userData[[x]]',
    '__proto__',
    'constructor',
  ),
  fc.string({ maxLength: 12 }),
);
const params = fc.dictionary(key, text, { maxKeys: 6 });

type Body = { type?: string; body?: string | FormData };
const body: fc.Arbitrary<Body> = fc.oneof(
  params.map((p) => ({ type: 'application/x-www-form-urlencoded', body: new URLSearchParams(p).toString() })),
  params.map((p) => ({ type: 'application/json', body: JSON.stringify(p) })),
  fc.string({ maxLength: 100 }).map((s) => ({ type: 'application/json', body: s })),
  fc.tuple(params, fc.string({ maxLength: 30 }), fc.string({ maxLength: 200 })).map(([p, name, content]) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(p)) form.append(k, v);
    form.append('file', new Blob([content]), name);
    return { body: form };
  }),
  fc.constant({
    type: 'multipart/form-data; boundary=zz',
    body: '--zz\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nunterminated',
  }),
  fc.constant({}),
);

describe('Chat API v2 under hostile input (property-based)', function () {
  this.timeout(300_000);
  let gw: TestGateway;
  let bystander: V2Chat;
  let target: V2Chat;

  before(async () => {
    gw = await startTestGateway({
      services: {
        'request-chat.json': { fileTransfer: { enabled: true, needAgent: false, maxFiles: 1000, maxTotalSize: 100_000_000 } },
      },
      endpoints: { 'gms_builtin.json': endpointFile(['alice']) },
    });
    bystander = await startV2Chat(gw);
    await agentClient(gw, 'alice').post(`/chats/${bystander.chatId}/accept`);
    await bystander.call('send', { message: 'keep me as I am' });
    target = await startV2Chat(gw);
  });
  after(() => gw.close());

  it('never a 5xx, always the v2 envelope on errors, and a chat without its keys is never changed', async () => {
    const alice = agentClient(gw, 'alice');
    const before = (await alice.get(`/chats/${bystander.chatId}`)).body;
    const statuses: Record<number, number> = {};
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          method: fc.oneof(
            { weight: 10, arbitrary: fc.constant('POST') },
            { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE') },
          ),
          service: fc.oneof(
            { weight: 6, arbitrary: fc.constant('request-chat') },
            { weight: 1, arbitrary: nasty.map((s) => encodeURIComponent(s.slice(0, 100).replace(/[\ud800-\udfff]/g, 'x'))) },
          ),
          // The target chat with its right keys, or the bystander's id with guessed keys, or a made-up id.
          who: fc.constantFrom('target', 'bystander', 'unknown'),
          action: fc.constantFrom(...ACTIONS),
          body,
        }),
        async ({ method, service, who, action, body: b }) => {
          const chat = who === 'target' ? target : bystander;
          const id = who === 'unknown' ? 'ZZZZ' : chat.chatId;
          const path =
            action === '' || action === '/' ? `/genesys/2/chat/${service}${action}` : `/genesys/2/chat/${service}/${id}${action}`;
          let sent = b.body;
          if (who === 'target' && typeof sent === 'string' && b.type === 'application/x-www-form-urlencoded') {
            sent = `${sent}&${new URLSearchParams(target.credentials()).toString()}`;
          } else if (who === 'target' && sent instanceof FormData) {
            for (const [k, v] of Object.entries(target.credentials())) sent.append(k, v);
          }
          const headers: Record<string, string> = b.type ? { 'content-type': b.type } : {};
          const res = await fetch(gw.url + path, {
            method,
            headers,
            ...(sent !== undefined && method !== 'GET' ? { body: sent } : {}),
          });
          const raw = await res.text();
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          expect(res.status, `${method} ${path}`).to.be.below(500);
          if (res.status >= 400 && res.status !== 405) {
            const parsed = JSON.parse(raw) as { statusCode: number; errors: { code: number; advice: string }[] };
            expect([1, 2], raw).to.include(parsed.statusCode);
            expect(parsed.errors[0].code, raw).to.be.a('number');
            expect(parsed.errors[0].advice, raw).to.be.a('string');
          }
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
    const after = (await alice.get(`/chats/${bystander.chatId}`)).body;
    expect(after).to.deep.equal(before);
    expect(Object.getPrototypeOf({}).polluted).to.equal(undefined);
    console.log(
      `      fuzz: ${RUNS} v2 requests, by status ${Object.entries(statuses)
        .map(([s, n]) => `${s}:${n}`)
        .join(' ')}`,
    );
  });
});
