// Spec §"Request bodies", §Errors and §CORS: every input shape means the same, bad bodies get the
// error body with the right status, and every answer carries the no-cache and CORS headers.

import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { MAX_JSON_DEPTH } from '../src/http/body.ts';
import { agentClient, endpointFile } from './helpers/agent-client.ts';
import { startTestGateway, type Reply, type TestGateway } from './helpers/gateway.ts';

function rawRequest(
  base: string,
  method: string,
  pathname: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      new URL(pathname, base),
      { method, headers: { ...headers, 'Content-Length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('request bodies, errors and headers', () => {
  let gw: TestGateway;
  const create = '/genesys/1/service/request-chat';

  before(async () => {
    gw = await startTestGateway({ env: { BODY_LIMIT_BYTES: '2048' } });
  });
  after(async () => {
    await gw.close();
  });

  function expectError(res: Reply, status: number, exception: string): void {
    expect(res.status).to.equal(status);
    expect(res.headers.get('content-type')).to.match(/^application\/json/);
    expect(Object.keys(res.body).sort()).to.deep.equal(['exception', 'message']);
    expect(res.body.exception).to.equal(exception);
    expect(res.body.message)
      .to.be.a('string')
      .and.not.match(/\n\s+at /);
  }

  const shapes: Array<[string, () => { body: string | FormData; headers: Record<string, string>; query?: string }]> = [
    [
      'form-urlencoded',
      () => ({
        body: '_gateway_extras=true&topic=billing&lang=en',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      }),
    ],
    [
      'multipart fields',
      () => {
        const form = new FormData();
        form.set('_gateway_extras', 'true');
        form.set('topic', 'billing');
        form.set('lang', 'en');
        return { body: form, headers: {} };
      },
    ],
    [
      'JSON',
      () => ({
        body: '{"_gateway_extras": true, "topic": "billing", "lang": "en"}',
        headers: { 'Content-Type': 'application/json' },
      }),
    ],
    [
      'JSON with the form content type',
      () => ({
        body: '{"_gateway_extras":"true","topic":"billing","lang":"en"}',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8' },
      }),
    ],
    ['query string', () => ({ body: '', headers: {}, query: '?_gateway_extras=True&topic=billing&lang=en' })],
    [
      'query string under the body',
      () => ({
        body: 'topic=billing&_gateway_extras=1',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        query: '?topic=ignored&lang=en',
      }),
    ],
  ];

  for (const [name, make] of shapes) {
    it(`accepts ${name}, with the same meaning`, async () => {
      const { body, headers, query } = make();
      const res = await gw.post(create + (query ?? ''), body, headers);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body._data).to.deep.equal({ topic: 'billing', lang: 'en' });
    });
  }

  it('treats "true", "True" and "1" as true for flags, and anything else as false', async () => {
    for (const value of ['true', 'True', '1'])
      expect((await gw.post(create, { _gateway_extras: value })).body).to.have.property('_service');
    for (const value of ['false', '0', 'no-thanks', ''])
      expect((await gw.post(create, { _gateway_extras: value })).body).not.to.have.property('_service');
    for (const value of ['true', 'True', '1']) {
      const session = await gw.post(create);
      expect((await gw.post(`/genesys/1/service/${session.body._id}/ixn/chat`, { _verbose: value })).body).to.have.property(
        'secureKey',
      );
    }
    const session = await gw.post(create);
    expect(
      (await gw.post(`/genesys/1/service/${session.body._id}/ixn/chat`, { _verbose: 'no-thanks' })).body,
    ).not.to.have.property('secureKey');
    // A new session answers exactly its id and the create URL (with hyphens), _verbose or not, as GMS does.
    expect((await gw.post(create, { topic: 'billing' })).body).to.have.all.keys('_id', '_chatIxnAPI-CREATE-URL');
    expect((await gw.post(create, { topic: 'billing', _verbose: 'true' })).body).to.have.all.keys(
      '_id',
      '_chatIxnAPI-CREATE-URL',
    );
  });

  it('never merges __proto__, constructor or prototype keys', async () => {
    const bodies: Array<[string, string]> = [
      [
        'application/json',
        '{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}, "prototype": "x", "ok": "1", "_gateway_extras": "1"}',
      ],
      [
        'application/x-www-form-urlencoded',
        '__proto__[polluted]=yes&constructor[prototype][polluted]=yes&prototype=x&ok=1&_gateway_extras=1',
      ],
    ];
    for (const [type, body] of bodies) {
      const res = await gw.post(`${create}?__proto__=q`, body, { 'Content-Type': type });
      expect(res.status).to.equal(200);
      expect(res.body._data).to.not.have.any.keys('__proto__', 'constructor', 'prototype');
      expect(res.body._data.ok).to.equal('1');
    }
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });

  it('answers 415 UnsupportedMediaType for a body it cannot read', async () => {
    expectError(await gw.post(create, '<xml/>', { 'Content-Type': 'application/xml' }), 415, 'UnsupportedMediaType');
    expectError(await gw.post(create, new Uint8Array([1, 2, 3]), { 'Content-Type': 'image/png' }), 415, 'UnsupportedMediaType');
  });

  it('reads a compressed body once inflated, within the limit of what it inflates to, and refuses an encoding it cannot undo', async () => {
    const gzipped = (text: string) => new Uint8Array(gzipSync(text));
    const form = { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Encoding': 'gzip' };
    const res = await gw.post(create, gzipped('_gateway_extras=true&topic=zipped'), form);
    expect(res.status).to.equal(200);
    expect(res.body._data.topic).to.equal('zipped');
    // Small on the wire, over BODY_LIMIT_BYTES once inflated.
    expectError(await gw.post(create, gzipped(`topic=${'x'.repeat(10_000)}`), form), 413, 'PayloadTooLarge');
    expectError(await gw.post(create, new Uint8Array([1, 2, 3]), form), 400, 'InvalidParameter');
    expectError(
      await gw.post(create, 'topic=x', { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Encoding': 'compress' }),
      415,
      'UnsupportedMediaType',
    );
  });

  it('answers 400 InvalidParameter for malformed JSON, non-object JSON and broken multipart', async () => {
    expectError(await gw.post(create, '{"a": ', { 'Content-Type': 'application/json' }), 400, 'InvalidParameter');
    expectError(await gw.post(create, '[1, 2]', { 'Content-Type': 'application/json' }), 400, 'InvalidParameter');
    expectError(
      await gw.post(create, '{"a": ', { 'Content-Type': 'application/x-www-form-urlencoded' }),
      400,
      'InvalidParameter',
    );
    expectError(await gw.post(create, 'no boundary here', { 'Content-Type': 'multipart/form-data' }), 400, 'InvalidParameter');
  });

  it(`answers 400 InvalidParameter, never 500, for JSON nested deeper than ${MAX_JSON_DEPTH} levels, on the chat, agent and admin routes`, async () => {
    const other = await startTestGateway({ endpoints: { 'gms_builtin.json': endpointFile(['alice']) } });
    try {
      const alice = agentClient(other, 'alice');
      const nested = (depth: number): string => `{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`;
      const json = { 'Content-Type': 'application/json' };
      const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
      // 20 kB of brackets: re-serialising them overflowed the stack.
      expectError(await other.post(create, nested(10_000), json), 400, 'InvalidParameter');
      expectError(await other.post(create, nested(10_000), form), 400, 'InvalidParameter');
      expectError(await other.post(create, nested(MAX_JSON_DEPTH), json), 400, 'InvalidParameter');
      expectError(await alice.post('/chats/X/send', nested(10_000), json), 400, 'InvalidParameter');
      // fetch sends no body with GET: a raw request does, as any client may.
      const admin = await rawRequest(other.url, 'GET', '/genesys/1/admin/services', nested(10_000), json);
      expect(admin.status).to.equal(400);
      expect(JSON.parse(admin.text).exception).to.equal('InvalidParameter');
      expect((await other.post(create, nested(MAX_JSON_DEPTH - 1), json)).status).to.equal(200);
      // Brackets inside strings are text, not nesting.
      const texts = await other.post(create, JSON.stringify({ _gateway_extras: 'true', note: '['.repeat(500) }), json);
      expect(texts.status).to.equal(200);
      expect(texts.body._data.note).to.equal('['.repeat(500));
    } finally {
      await other.close();
    }
  });

  it('refuses file uploads in multipart bodies', async () => {
    const form = new FormData();
    form.set('file', new Blob(['hello']), 'hello.txt');
    expectError(await gw.post(create, form), 400, 'InvalidParameter');
  });

  it('answers 413 PayloadTooLarge for a body over the limit, in every shape', async () => {
    const big = 'x'.repeat(4096);
    expectError(
      await gw.post(create, `data=${big}`, { 'Content-Type': 'application/x-www-form-urlencoded' }),
      413,
      'PayloadTooLarge',
    );
    expectError(
      await gw.post(create, JSON.stringify({ data: big }), { 'Content-Type': 'application/json' }),
      413,
      'PayloadTooLarge',
    );
    const form = new FormData();
    form.set('data', big);
    expectError(await gw.post(create, form), 413, 'PayloadTooLarge');
    // The gateway is still fine afterwards.
    expect((await gw.post(create, { small: 'yes' })).status).to.equal(200);
  });

  it('answers an unknown path with the error body, never HTML', async () => {
    expectError(await gw.get('/nothing/here'), 404, 'NotFound');
    expectError(await gw.get(create), 405, 'MethodNotAllowed');
  });

  it('marks every answer not cacheable', async () => {
    for (const res of [await gw.post(create), await gw.post('/genesys/1/service/missing'), await gw.get('/healthz')]) {
      expect(res.headers.get('pragma')).to.equal('no-cache');
      expect(res.headers.get('cache-control')).to.equal('no-cache, no-store');
    }
  });

  it('answers CORS preflights for /genesys/* with gms_user and Content-Type allowed', async () => {
    const res = await fetch(gw.url + create, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://shop.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'gms_user, content-type',
      },
    });
    expect(res.status).to.equal(204);
    expect(res.headers.get('access-control-allow-origin')).to.equal('*');
    expect(res.headers.get('access-control-allow-headers'))
      .to.match(/gms_user/)
      .and.match(/Content-Type/);
    const post = await gw.post(create, {}, { Origin: 'https://shop.example' });
    expect(post.headers.get('access-control-allow-origin')).to.equal('*');
  });

  it('allows only the configured origins when CORS_ORIGINS is set', async () => {
    const strict = await startTestGateway({ env: { CORS_ORIGINS: 'https://shop.example' } });
    try {
      const ok = await strict.post(create, {}, { Origin: 'https://shop.example' });
      expect(ok.headers.get('access-control-allow-origin')).to.equal('https://shop.example');
      const other = await strict.post(create, {}, { Origin: 'https://evil.example' });
      expect(other.headers.get('access-control-allow-origin')).to.equal(null);
      // The CometD endpoint's preflights follow the same list (its browser clients send credentials).
      const preflight = (origin: string): Promise<Response> =>
        fetch(`${strict.url}/genesys/cometd`, {
          method: 'OPTIONS',
          headers: {
            Origin: origin,
            'Access-Control-Request-Method': 'POST',
            'Access-Control-Request-Headers': 'content-type, gms_user',
          },
        });
      const allowed = await preflight('https://shop.example');
      expect(allowed.headers.get('access-control-allow-origin')).to.equal('https://shop.example');
      expect(allowed.headers.get('access-control-allow-credentials')).to.equal('true');
      expect(allowed.headers.get('access-control-allow-headers')).to.match(/gms_user/);
      expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).to.equal(null);
    } finally {
      await strict.close();
    }
  });

  it('binds a session to the gms_user that created it (403 Forbidden for another)', async () => {
    const created = await gw.post(create, {}, { gms_user: 'alice' });
    const chat = `/genesys/1/service/${created.body._id}/ixn/chat`;
    expectError(await gw.post(chat, {}, { gms_user: 'mallory' }), 403, 'Forbidden');
    expectError(await gw.post(chat, {}), 403, 'Forbidden');
    expect((await gw.post(chat, {}, { gms_user: 'alice' })).status).to.equal(200);
  });
});
