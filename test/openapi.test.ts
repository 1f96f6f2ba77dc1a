// GET /openapi.json kept true: a real gateway, every documented operation called for real (a success and
// an error at least), and each real answer (its status, its content type, its body) checked against the
// document with ajv. A status or a body the document does not describe fails the test, and so does a
// route the gateway serves that the document leaves out, or an operation it lists that no route serves.

import { expect } from 'chai';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { endpointFile, tokenOf } from './helpers/agent-client.ts';
import { startCustomerChat } from './helpers/chat-client.ts';
import { request, startTestGateway, type Body, type Reply, type TestGateway } from './helpers/gateway.ts';
import { hashToken } from '../src/endpoints/token-hash.ts';

const OPS = 'ops-token-for-openapi-tests';

/** Sam is a supervisor. */
function withSupervisor(file: Record<string, unknown>): Record<string, unknown> {
  for (const agent of file.agents as Array<Record<string, unknown>>) if (agent.id === 'sam') agent.role = 'supervisor';
  return file;
}
const VIEWER = 'viewer-token-for-openapi-tests';
const DOC_ID = 'https://gateway.test/openapi.json';

interface Response {
  content?: Record<string, unknown>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, Response> }>>;
}

/** Pages (HTML, scripts, the icon) are not API operations. */
const PAGE_ROUTE = /^\/(agent|demo|demo\/v2|admin)(\/|\/\{file\})?$|^\/favicon\./;

describe('OpenAPI: /openapi.json describes every answer the gateway gives', function () {
  this.timeout(30_000);
  let gw: TestGateway;
  let doc: Document;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  /** `METHOD template status` of every answer checked. */
  const seen = new Set<string>();

  before(async () => {
    gw = await startTestGateway({
      services: {
        'request-chat.json': { maxMessageLength: 200, fileTransfer: { enabled: true, needAgent: false } },
        'billing.json': { ttl: 600 },
      },
      endpoints: {
        'gms_builtin.json': withSupervisor(
          endpointFile(['alice', 'bob', 'sam', 'dan'], { cannedResponses: [{ title: 'Hi', text: 'Hello!' }] }),
        ),
        'other.json': endpointFile(['carol']),
      },
      env: {
        ADMIN_TOKENS: `ops:read-write:${hashToken(OPS)},viewer:read-only:${hashToken(VIEWER)}`,
        BODY_LIMIT_BYTES: '4096',
      },
    });
    const res = await request(gw.url, 'GET', '/openapi.json');
    doc = res.body as Document;
    ajv.addSchema({ ...doc, $id: DOC_ID });
    check('GET', '/openapi.json', res);
  });
  after(() => gw?.close());

  const pointer = (...parts: string[]): string => parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

  /** Fails unless the document lists this status for the operation and the body matches its schema. */
  function check(method: string, template: string, res: Reply): void {
    const operation = doc.paths[template]?.[method.toLowerCase()];
    expect(operation, `${method} ${template} is not in the document`).to.not.equal(undefined);
    const documented = operation.responses[String(res.status)];
    expect(
      documented,
      `${method} ${template} answered ${res.status}, which the document does not list: ${JSON.stringify(res.body)}`,
    ).to.not.equal(undefined);
    seen.add(`${method} ${template} ${res.status}`);
    const type = (res.headers.get('content-type') ?? '').split(';')[0].trim();
    const content = documented.content ?? {};
    const mediaType = type in content ? type : '*/*' in content ? '*/*' : undefined;
    expect(
      mediaType,
      `${method} ${template} ${res.status} answered ${type}, documented: ${Object.keys(content).join(', ')}`,
    ).to.not.equal(undefined);
    if (!/json$/.test(mediaType!)) return;
    const validate = ajv.getSchema(
      `${DOC_ID}#/${pointer('paths', template, method.toLowerCase(), 'responses', String(res.status), 'content', mediaType!, 'schema')}`,
    ) as ValidateFunction;
    expect(
      validate(res.body),
      `${method} ${template} ${res.status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(res.body)}`,
    ).to.equal(true);
  }

  /** Calls `template` with its `{params}` filled in, and checks the answer. */
  async function call(
    method: string,
    template: string,
    params: Record<string, string> = {},
    body?: Body,
    headers: Record<string, string> = {},
    query = '',
  ): Promise<Reply> {
    const url = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? `no-${name}`));
    const res = await request(gw.url, method, url + query, body, headers);
    check(method, template, res);
    return res;
  }
  const asAgent = (id: string): Record<string, string> => ({ authorization: `Bearer ${tokenOf(id)}` });
  const asAdmin = (token = OPS, json = true): Record<string, string> => ({
    authorization: `Bearer ${token}`,
    ...(json ? { 'content-type': 'application/json' } : {}),
  });

  it('Chat API v1: create, start, send, refresh, typing, disconnect, and their errors', async () => {
    const created = await call(
      'POST',
      '/genesys/1/service/{name}',
      { name: 'request-chat' },
      { _gateway_extras: 'true', topic: 'x' },
    );
    expect(created.body._service).to.equal('request-chat');
    await call('POST', '/genesys/1/service/{name}', { name: 'nope' }, {});
    const id = created.body._id as string;
    const chat = (action: string): string => `/genesys/1/service/{id}/ixn/chat${action}`;
    expect((await call('POST', chat(''), { id }, { firstName: 'Ann', subject: 'Bills', account: '42' })).status).to.equal(200);
    expect((await call('POST', chat(''), { id }, { firstName: 'Ann' })).body.exception).to.equal('ChatAlreadyStarted');
    expect((await call('POST', chat('/send'), { id }, { message: 'Hello' })).status).to.equal(200);
    expect((await call('POST', chat('/send'), { id }, { message: '' })).status).to.equal(400);
    expect((await call('POST', chat('/send'), { id }, { message: 'x'.repeat(5000) })).status).to.equal(413);
    const verbose = await call('POST', chat('/refresh'), { id }, { _verbose: 'true', transcriptPosition: '0' });
    expect(verbose.body.transcriptToShow).to.have.length.above(0);
    expect(verbose.body).to.include.keys('secureKey', 'chatWebApiPort', '_chatIxnAPI_SEND_URL');
    expect((await call('POST', chat('/refresh'), { id }, { transcriptPosition: 'abc' })).status).to.equal(400);
    for (const action of ['/refreshFromStart', '/startTyping', '/stopTyping']) {
      expect((await call('POST', chat(action), { id }, {})).status).to.equal(200);
      expect((await call('POST', chat(action), { id: 'unknown' }, {})).status).to.equal(404);
    }
    // A session bound to a gms_user answers only that user.
    const bound = await call('POST', '/genesys/1/service/{name}', { name: 'request-chat' }, {}, { gms_user: 'u-1' });
    expect((await call('POST', chat(''), { id: bound.body._id as string }, { firstName: 'Bo' })).status).to.equal(403);
    expect((await call('POST', chat('/disconnect'), { id }, {})).body.chatIxnState).to.equal('DISCONNECTED');
    expect((await call('POST', chat('/disconnect'), { id: 'unknown' }, {})).status).to.equal(404);
    expect((await call('POST', chat('/send'), { id }, { message: 'late' })).body.exception).to.equal('ChatEnded');
    await call('GET', '/demo/service/{name}', { name: 'request-chat' });
    await call('GET', '/demo/service/{name}', { name: 'nope' });
  });

  it('Chat API v2, the agent API and files in both directions, and their errors', async () => {
    const start = await call(
      'POST',
      '/genesys/2/chat/{service}',
      { service: 'request-chat' },
      { nickname: 'Ann', subject: 'Bills', 'userData[account]': '42', text: 'Hi there' },
    );
    await call('POST', '/genesys/2/chat/{service}', { service: 'request-chat' }, { subject: 'no name' });
    await call('POST', '/genesys/2/chat/{service}', { service: 'nope' }, { nickname: 'Ann' });
    const { chatId, userId, secureKey, alias } = start.body as Record<string, string>;
    const ids = { service: 'request-chat', chatId };
    const creds = { userId, secureKey, alias };
    const v2 = (action: string, body: Record<string, string> = {}, params = ids): Promise<Reply> =>
      call('POST', `/genesys/2/chat/{service}/{chatId}/${action}`, params, { ...creds, ...body });
    const wrongKey = (action: string): Promise<Reply> =>
      call('POST', `/genesys/2/chat/{service}/{chatId}/${action}`, ids, { ...creds, secureKey: 'not-the-key' });

    // The agent takes the chat; carol serves another endpoint.
    const agentChat = (action = ''): string => `/agent/v1/chats/{id}${action}`;
    await call('GET', '/agent/v1/me', {}, undefined, asAgent('alice'));
    await call('GET', '/agent/v1/me');
    await call('GET', '/agent/v1/canned-responses', {}, undefined, asAgent('alice'));
    await call('GET', '/agent/v1/canned-responses', {}, undefined, { authorization: 'Bearer wrong' });
    await call('GET', '/agent/v1/status', {}, undefined, asAgent('alice'));
    await call('GET', '/agent/v1/status');
    await call('POST', '/agent/v1/status', {}, { ready: 'true' }, asAgent('alice'));
    await call('POST', '/agent/v1/status', {}, { ready: 'maybe' }, asAgent('alice'));
    const waiting = await call('GET', '/agent/v1/chats', {}, undefined, asAgent('alice'), '?state=waiting');
    expect(waiting.body.chats.map((c: { chatSessionId: string }) => c.chatSessionId)).to.include(chatId);
    await call('GET', '/agent/v1/chats', {}, undefined, asAgent('alice'), '?state=nope');
    await call('GET', agentChat(), { id: chatId }, undefined, asAgent('alice'));
    await call('GET', agentChat(), { id: chatId }, undefined, asAgent('carol'));
    await call('GET', agentChat(), { id: 'unknown' }, undefined, asAgent('alice'));
    expect((await call('POST', agentChat('/accept'), { id: chatId }, {}, asAgent('alice'))).body.state).to.equal('connected');
    expect((await call('POST', agentChat('/accept'), { id: chatId }, {}, asAgent('bob'))).status).to.equal(409);
    await call('GET', '/agent/v1/chats', {}, undefined, asAgent('alice'), '?state=mine');
    const live = await call('GET', '/agent/v1/chats', {}, undefined, asAgent('sam'), '?state=live');
    expect(live.body.chats.map((c: { chatSessionId: string }) => c.chatSessionId)).to.include(chatId);
    expect((await call('GET', '/agent/v1/chats', {}, undefined, asAgent('alice'), '?state=live')).status).to.equal(403);
    await call('POST', agentChat('/send'), { id: chatId }, { message: 'How can I help?' }, asAgent('alice'));
    await call('POST', agentChat('/send'), { id: chatId }, { message: ' ' }, asAgent('alice'));
    await call('POST', agentChat('/typing'), { id: chatId }, { typing: 'true' }, asAgent('alice'));
    await call('POST', agentChat('/typing'), { id: chatId }, { typing: 'often' }, asAgent('alice'));
    await call('POST', agentChat('/push-url'), { id: chatId }, { url: 'https://example.com/faq' }, asAgent('alice'));
    await call('POST', agentChat('/push-url'), { id: chatId }, { url: 'javascript:alert(1)' }, asAgent('alice'));
    await call('POST', agentChat('/notice'), { id: chatId }, { text: 'Transferring' }, asAgent('alice'));
    await call('POST', agentChat('/notice'), { id: chatId }, {}, asAgent('alice'));

    // The customer's calls.
    await v2('refresh', { transcriptPosition: '1' });
    await wrongKey('refresh');
    await v2('readReceipt', { transcriptPosition: '2' });
    await call('POST', '/genesys/2/chat/{service}/{chatId}/readReceipt', ids, { secureKey });
    await v2('send', { message: 'My bill', messageType: 'text' });
    await v2('send', { message: '' });
    await call('POST', '/genesys/2/chat/{service}/{chatId}/send', ids, { ...creds, message: 'y'.repeat(5000) });
    for (const action of ['startTyping', 'stopTyping']) {
      await v2(action);
      await v2(action, {}, { service: 'request-chat', chatId: 'unknown' });
    }
    await v2('updateNickname', { nickname: 'Annie' });
    await v2('updateNickname', {});
    await v2('customNotice', { message: 'Note' });
    await v2('customNotice', { message: 'z'.repeat(300) });
    await v2('pushUrl', { pushUrl: 'https://example.com/page' });
    await v2('pushUrl', { pushUrl: 'ftp://example.com/' });
    await v2('updateData', { 'userData[plan]': 'gold' });
    await v2('updateData', {});
    const limits = await v2('file/limits');
    expect(limits.body.userData['upload-max-files']).to.equal('3');
    await wrongKey('file/limits');

    // Files: the customer's, the agent's.
    const upload = (name: string, fields: Record<string, string>): FormData => {
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      form.append('file', new Blob(['file content']), name);
      return form;
    };
    const sent = await call('POST', '/genesys/2/chat/{service}/{chatId}/file', ids, upload('notes.txt', creds));
    const customerFile = sent.body.userData['file-id'] as string;
    expect(
      (await call('POST', '/genesys/2/chat/{service}/{chatId}/file', ids, upload('run.exe', creds))).body.errors[0].code,
    ).to.equal(121);
    const download = '/genesys/2/chat/{service}/{chatId}/file/{fileId}/download';
    const got = await call('GET', download, { ...ids, fileId: customerFile }, undefined, {}, `?${new URLSearchParams(creds)}`);
    expect(got.body).to.equal('file content');
    await call('GET', download, { ...ids, fileId: 'nope' }, undefined, {}, `?${new URLSearchParams(creds)}`);
    await call('POST', download, { ...ids, fileId: customerFile }, creds);
    await call('POST', download, { ...ids, fileId: customerFile }, { userId });

    const agentUpload = new FormData();
    agentUpload.append('file', new Blob(['agent content']), 'answer.pdf');
    const agentSent = await call('POST', agentChat('/files'), { id: chatId }, agentUpload, asAgent('alice'));
    const agentFile = agentSent.body.events.at(-1).data['file-id'] as string;
    await call('POST', agentChat('/files'), { id: chatId }, { not: 'a file' }, asAgent('alice'));
    await call('GET', agentChat('/files/{fileId}'), { id: chatId, fileId: customerFile }, undefined, asAgent('alice'));
    await call('GET', agentChat('/files/{fileId}'), { id: chatId, fileId: 'nope' }, undefined, asAgent('alice'));
    await call('POST', '/genesys/2/chat/{service}/{chatId}/file/{fileId}/delete', { ...ids, fileId: agentFile }, creds);
    await call('POST', '/genesys/2/chat/{service}/{chatId}/file/{fileId}/delete', { ...ids, fileId: customerFile }, creds);
    await call('POST', agentChat('/files/{fileId}/delete'), { id: chatId, fileId: customerFile }, {}, asAgent('alice'));
    await call('POST', agentChat('/files/{fileId}/delete'), { id: chatId, fileId: agentFile }, {}, asAgent('alice'));

    expect((await v2('disconnect')).body.chatEnded).to.equal(true);
    await wrongKey('disconnect');
    expect((await v2('send', { message: 'late' })).status).to.equal(400);
    await call('POST', agentChat('/leave'), { id: chatId }, {}, asAgent('alice'));
    await call('POST', agentChat('/leave'), { id: 'unknown' }, {}, asAgent('alice'));

    // A conference and a transfer, on a chat of their own.
    const conference = await startCustomerChat(gw);
    const id = conference.start.body.chatSessionId as string;
    await request(gw.url, 'POST', `/agent/v1/chats/${id}/accept`, {}, asAgent('alice'));
    await call('GET', '/agent/v1/agents', {}, undefined, asAgent('alice'));
    await call('GET', '/agent/v1/agents');
    await call('POST', agentChat('/invite'), { id }, { agentId: 'bob' }, asAgent('alice'));
    await call('POST', agentChat('/invite'), { id }, { agentId: 'bob' }, asAgent('alice'));
    await call('POST', agentChat('/invite'), { id }, { agentId: 'nobody' }, asAgent('alice'));
    await call('POST', agentChat('/join'), { id }, { silent: 'true' }, asAgent('sam'));
    await call('POST', agentChat('/join'), { id }, {}, asAgent('bob'));
    await call('POST', agentChat('/whisper'), { id }, { message: 'Offer the refund' }, asAgent('sam'));
    await call('POST', agentChat('/whisper'), { id }, {}, asAgent('sam'));
    await call('POST', agentChat('/transfer'), { id }, { agentId: 'dan' }, asAgent('bob'));
    await call('POST', agentChat('/transfer'), { id }, { agentId: 'dan' }, asAgent('bob'));
    await call('POST', agentChat('/transfer'), { id }, {}, asAgent('alice'));
    await conference.call('disconnect');
  });

  it("the admin API and the operators' probes, with their errors", async () => {
    for (const template of [
      '/genesys/1/admin/services',
      '/genesys/1/admin/endpoints',
      '/genesys/1/admin/overview',
      '/genesys/1/admin/nodes',
    ]) {
      await call('GET', template, {}, undefined, asAdmin(VIEWER, false));
      await call('GET', template);
    }
    await call('GET', '/genesys/1/admin/schemas/{kind}', { kind: 'service' }, undefined, asAdmin(VIEWER, false));
    await call('GET', '/genesys/1/admin/schemas/{kind}', { kind: 'nope' }, undefined, asAdmin(VIEWER, false));
    await call('GET', '/metrics', {}, undefined, asAdmin(VIEWER, false));
    await call('GET', '/metrics');
    await call('GET', '/healthz');

    const kinds: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
      ['services', { ttl: 120 }, { ttl: 'forever' }],
      ['endpoints', { maxWaiting: 5 }, { maxWaiting: -1 }],
    ];
    for (const [segment, options, bad] of kinds) {
      const list = `/genesys/1/admin/${segment}`;
      const one = `${list}/{name}`;
      const json = (value: unknown): string => JSON.stringify(value);
      expect((await call('POST', list, {}, json({ name: 'sales', ...options }), asAdmin(), '?dryRun=true')).status).to.equal(200);
      expect((await call('POST', list, {}, json({ name: 'sales', ...options }), asAdmin())).status).to.equal(201);
      expect((await call('POST', list, {}, json({ name: 'sales', ...options }), asAdmin())).status).to.equal(409);
      expect((await call('POST', list, {}, json({ name: 'sales2', ...bad }), asAdmin())).body.problems).to.have.length.above(0);
      expect((await call('POST', list, {}, json({ name: 'x' }), asAdmin(VIEWER))).status).to.equal(403);
      expect((await call('POST', list, {}, 'name=x', { ...asAdmin(), 'content-type': 'text/plain' })).status).to.equal(415);

      const read = await call('GET', one, { name: 'sales' }, undefined, asAdmin(OPS, false));
      await call('GET', one, { name: 'sales' }, undefined, asAdmin(VIEWER, false));
      await call('GET', one, { name: 'nope' }, undefined, asAdmin(OPS, false));
      const etag = read.headers.get('etag')!;
      expect((await call('PUT', one, { name: 'sales' }, json(options), asAdmin())).status).to.equal(428);
      const replaced = await call('PUT', one, { name: 'sales' }, json({ ...options, description: 'put' }), {
        ...asAdmin(),
        'if-match': etag,
      });
      expect((await call('PUT', one, { name: 'sales3' }, json(options), asAdmin())).status).to.equal(201);
      expect(
        (await call('PATCH', one, { name: 'sales' }, json({ description: 'x' }), { ...asAdmin(), 'if-match': etag })).status,
      ).to.equal(412);
      const patched = await call('PATCH', one, { name: 'sales' }, json({ description: 'x' }), {
        ...asAdmin(),
        'content-type': 'application/merge-patch+json',
        'if-match': replaced.headers.get('etag')!,
      });
      await call('DELETE', one, { name: 'nope' }, undefined, { ...asAdmin(OPS, false), 'if-match': '*' });
      await call('DELETE', one, { name: 'sales' }, undefined, {
        ...asAdmin(OPS, false),
        'if-match': patched.headers.get('etag')!,
      });
      await call('DELETE', one, { name: 'sales3' }, undefined, { ...asAdmin(OPS, false), 'if-match': '*' });
    }
  });

  it('every documented operation was called, with a success and an error', () => {
    const missing: string[] = [];
    for (const [template, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const statuses = [...seen]
          .filter((s) => s.startsWith(`${method.toUpperCase()} ${template} `))
          .map((s) => Number(s.split(' ')[2]));
        if (!statuses.some((s) => s < 300)) missing.push(`${method.toUpperCase()} ${template}: no success`);
        // Rate limits and store outages are the limits' and the stores' own tests' business.
        const errorsListed = Object.keys(operation.responses).some((s) => Number(s) >= 400 && Number(s) < 500 && s !== '429');
        if (errorsListed && !statuses.some((s) => s >= 400 && s < 500))
          missing.push(`${method.toUpperCase()} ${template}: no error`);
      }
    }
    expect(missing).to.deep.equal([]);
  });

  it('every route the gateway serves is in the document, and every operation of the document is served', () => {
    const served = new Set(
      gw.routes.filter((r) => !PAGE_ROUTE.test(r.path)).flatMap((r) => r.methods.map((m) => `${m} ${r.path.replace(/\/$/, '')}`)),
    );
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([template, operations]) =>
        Object.keys(operations).map((m) => `${m.toUpperCase()} ${template}`),
      ),
    );
    expect(
      [...served].filter((r) => !documented.has(r)),
      'served, not documented',
    ).to.deep.equal([]);
    expect(
      [...documented].filter((r) => !served.has(r)),
      'documented, not served',
    ).to.deep.equal([]);
    expect(doc.openapi).to.equal('3.1.0');
  });
});
