// Files in a chat over real HTTP: the customer (Chat API v2) and the agent (agent API) send, list limits,
// download and delete them, within the limits a service sets; hostile names and types are made safe,
// nothing is ever served inline; files survive a restart and are removed with their chat.

import path from 'node:path';
import { expect } from 'chai';
import { agentClient, endpointFile, type AgentClient } from './helpers/agent-client.ts';
import { startV2Chat, type V2Chat } from './helpers/chat-v2-client.ts';
import { eventually, makeTempDir, request, startTestGateway, type Reply, type TestGateway } from './helpers/gateway.ts';
import { rowsMentioning } from './helpers/sqlite-file.ts';

const FILES = {
  enabled: true,
  maxFileSize: 1000,
  maxFiles: 2,
  maxTotalSize: 1500,
  fileTypes: ['txt', 'png', 'pdf'],
  needAgent: true,
};

/** A multipart upload as a browser's FormData sends it: the chat's fields and one file part. */
function uploadForm(
  fields: Record<string, string>,
  name: string,
  content: string | Uint8Array,
  type = 'application/octet-stream',
): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([content as BlobPart], { type }), name);
  return form;
}

async function download(
  gw: TestGateway,
  chat: V2Chat,
  fileId: string,
): Promise<{ status: number; headers: Headers; bytes: Buffer; body: unknown }> {
  const query = new URLSearchParams(chat.credentials());
  const res = await fetch(`${gw.url}/genesys/2/chat/request-chat/${chat.chatId}/file/${fileId}/download?${query}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString());
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, bytes, body };
}

describe('files in a chat (Chat API v2 and the agent API)', () => {
  let gw: TestGateway;
  let alice: AgentClient;

  before(async () => {
    gw = await startTestGateway({
      services: {
        'request-chat.json': { fileTransfer: FILES },
        'no-files.json': {},
        'html-ok.json': {
          fileTransfer: { ...FILES, maxFiles: 50, maxTotalSize: 100_000, fileTypes: ['html', 'svg', 'txt'], needAgent: false },
        },
      },
      endpoints: { 'gms_builtin.json': endpointFile(['alice']) },
    });
    alice = agentClient(gw, 'alice');
  });
  after(() => gw.close());

  const upload = (
    chat: V2Chat,
    name: string,
    content: string | Uint8Array,
    extra: Record<string, string> = {},
    service = 'request-chat',
    type?: string,
  ): Promise<Reply> =>
    gw.post(
      `/genesys/2/chat/${service}/${chat.chatId}/file`,
      uploadForm({ ...chat.credentials(), ...extra }, name, content, type),
    );

  it('the customer reads the limits, sends a file the agent downloads, the agent sends one back, and each deletes their own', async () => {
    const chat = await startV2Chat(gw);
    const limits = await chat.call('file/limits');
    expect(limits.status).to.equal(200);
    expect(limits.body).to.include({ statusCode: 0, chatEnded: false });
    expect(limits.body.messages[0]).to.include({ type: 'Notice', text: 'file-client-cfg-get' });
    expect(limits.body.messages[0].userData).to.include({
      'upload-max-files': '2',
      'upload-max-file-size': '1000',
      'upload-max-total-size': '1500',
      'upload-need-agent': 'true',
      'upload-file-types': 'txt:png:pdf',
      'used-upload-max-files': '0',
      'used-upload-max-total-size': '0',
    });
    // Before an agent joins, needAgent refuses the upload.
    const early = await upload(chat, 'notes.txt', 'hello');
    expect(early.status).to.equal(400);
    expect(early.body.errors[0].code).to.equal(125);

    await alice.post(`/chats/${chat.chatId}/accept`);
    const sent = await upload(chat, 'notes.txt', 'hello agent', {
      'userData[file-description]': 'my notes',
      transcriptPosition: '3',
    });
    expect(sent.status).to.equal(200);
    const fileId = sent.body.userData['file-id'] as string;
    expect(fileId).to.match(/^[0-9A-F]{16}$/);
    expect(sent.body.messages).to.have.length(1);
    expect(sent.body.messages[0]).to.deep.include({
      index: 3,
      type: 'FileUploaded',
      userData: {
        'file-id': fileId,
        'file-name': 'notes.txt',
        'file-size': '11',
        'file-type': 'text/plain; charset=utf-8',
        'file-description': 'my notes',
      },
    });
    expect((await chat.call('file/limits')).body.messages[0].userData).to.include({
      'used-upload-max-files': '1',
      'used-upload-max-total-size': '11',
    });

    // The agent sees the event with the file's details and downloads it.
    const view = (await alice.get(`/chats/${chat.chatId}`)).body;
    expect(view.events.at(-1)).to.include({ type: 'Notice.FileUploaded', partyType: 'CLIENT', text: 'notes.txt' });
    expect(view.events.at(-1).data['file-id']).to.equal(fileId);
    const got = await fetch(`${gw.url}/agent/v1/chats/${chat.chatId}/files/${fileId}`, {
      headers: { authorization: `Bearer ${alice.token}` },
    });
    expect(got.status).to.equal(200);
    expect(await got.text()).to.equal('hello agent');
    expect(got.headers.get('content-disposition')).to.equal(`attachment; filename="notes.txt"; filename*=UTF-8''notes.txt`);
    expect(got.headers.get('x-content-type-options')).to.equal('nosniff');

    // The agent sends a file back (multipart on the agent API); the customer downloads it.
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    const back = await alice.post(`/chats/${chat.chatId}/files`, uploadForm({}, 'receipt.png', png));
    expect(back.status).to.equal(200);
    const agentFile = back.body.events.at(-1);
    expect(agentFile).to.include({ type: 'Notice.FileUploaded', partyType: 'AGENT', text: 'receipt.png' });
    const theirs = await download(gw, chat, agentFile.data['file-id']);
    expect(theirs.status).to.equal(200);
    expect(theirs.headers.get('content-type')).to.equal('image/png');
    expect([...theirs.bytes]).to.deep.equal([...png]);
    const polled = await chat.call('refresh', { transcriptPosition: '4' });
    expect(polled.body.messages[0]).to.deep.include({
      type: 'FileUploaded',
      from: { nickname: 'Alice', participantId: 2, type: 'Agent' },
    });

    // Each side deletes only its own file; a deleted file is gone for both.
    const notMine = await gw.post(
      `/genesys/2/chat/request-chat/${chat.chatId}/file/${agentFile.data['file-id']}/delete`,
      chat.credentials(),
    );
    expect(notMine.status).to.equal(403);
    const deleted = await gw.post(`/genesys/2/chat/request-chat/${chat.chatId}/file/${fileId}/delete`, {
      ...chat.credentials(),
      transcriptPosition: '5',
    });
    expect(deleted.status).to.equal(200);
    expect(
      deleted.body.messages.map((m: { type: string; userData?: Record<string, string> }) => [m.type, m.userData?.['file-id']]),
    ).to.deep.equal([['FileDeleted', fileId]]);
    const gone = await download(gw, chat, fileId);
    expect(gone.status).to.equal(404);
    expect(gone.body).to.deep.equal({
      statusCode: 2,
      errors: [{ code: 126, advice: 'No such file in this chat: the id is unknown or the file was deleted.' }],
    });
    expect(
      (
        await fetch(`${gw.url}/agent/v1/chats/${chat.chatId}/files/${fileId}`, {
          headers: { authorization: `Bearer ${alice.token}` },
        })
      ).status,
    ).to.equal(404);
    expect((await gw.store.get(`file:${chat.chatId}:${fileId}`)) === undefined).to.equal(true);
    expect((await alice.post(`/chats/${chat.chatId}/files/${agentFile.data['file-id']}/delete`)).status).to.equal(200);
    expect((await download(gw, chat, agentFile.data['file-id'])).status).to.equal(404);
  });

  it('over-limit files are refused with their own error code and leave nothing behind', async () => {
    const chat = await startV2Chat(gw);
    await alice.post(`/chats/${chat.chatId}/accept`);
    const before = (await alice.get(`/chats/${chat.chatId}`)).body.events.length;

    const big = await upload(chat, 'big.txt', 'x'.repeat(1001));
    expect(big.status).to.equal(413);
    expect(big.body).to.deep.equal({ statusCode: 1, errors: [{ code: 122, advice: 'The file is larger than 1000 bytes.' }] });
    // A body far over the limit is refused from its declared length, before it is read.
    const huge = await upload(chat, 'huge.txt', 'x'.repeat(200_000));
    expect(huge.status).to.equal(413);
    const exe = await upload(chat, 'setup.exe', 'MZ');
    expect(exe.status).to.equal(400);
    expect(exe.body.errors[0].code).to.equal(121);
    const noExt = await upload(chat, 'README', 'text');
    expect(noExt.body.errors[0].code).to.equal(121);

    expect((await upload(chat, 'a.txt', 'x'.repeat(900))).status).to.equal(200);
    const total = await upload(chat, 'b.txt', 'x'.repeat(700));
    expect(total.status).to.equal(400);
    expect(total.body.errors[0].code).to.equal(124);
    expect((await upload(chat, 'c.txt', 'small')).status).to.equal(200);
    const count = await upload(chat, 'd.txt', 'more');
    expect(count.body.errors[0]).to.deep.equal({ code: 123, advice: 'At most 2 files can be sent in one chat.' });

    // The agent's side has its own allowance under the same rules.
    expect((await alice.post(`/chats/${chat.chatId}/files`, uploadForm({}, 'big.pdf', 'x'.repeat(1001)))).status).to.equal(413);
    expect((await alice.post(`/chats/${chat.chatId}/files`, uploadForm({}, 'x.exe', 'MZ'))).body.exception).to.equal(
      'InvalidParameter',
    );

    const events = (await alice.get(`/chats/${chat.chatId}`)).body.events;
    expect(events.length - before).to.equal(2);
    const stored = [];
    for await (const [key] of gw.store.entries(`file:${chat.chatId}:`)) stored.push(key);
    expect(stored).to.have.length(2);

    // A service without file transfer refuses uploads, from either side.
    const plain = await startV2Chat(gw, { service: 'no-files' });
    await alice.post(`/chats/${plain.chatId}/accept`);
    const off = await upload(plain, 'a.txt', 'x', {}, 'no-files');
    expect(off.body.errors[0].code).to.equal(120);
    expect((await plain.call('file/limits')).body.userData).to.include({ 'upload-max-files': '0' });
    expect((await alice.post(`/chats/${plain.chatId}/files`, uploadForm({}, 'a.txt', 'x'))).status).to.equal(400);
    // And an upload with a wrong secureKey changes nothing.
    const forged = await gw.post(
      `/genesys/2/chat/request-chat/${chat.chatId}/file`,
      uploadForm({ ...chat.credentials(), secureKey: '0000000000000000' }, 'e.txt', 'x'),
    );
    expect(forged.status).to.equal(404);
    expect(forged.body.errors[0].code).to.equal(102);
  });

  it('hostile names and types are made safe: no path, no markup run inline, the type from the name only', async () => {
    const chat = await startV2Chat(gw, { service: 'html-ok' });
    const sent = async (name: string, content: string, type?: string): Promise<Record<string, string>> => {
      const reply = await upload(chat, name, content, { transcriptPosition: '1' }, 'html-ok', type);
      expect(reply.status, name).to.equal(200);
      return reply.body.messages.at(-1).userData;
    };
    const get = (fileId: string): Promise<Response> =>
      fetch(`${gw.url}/genesys/2/chat/html-ok/${chat.chatId}/file/${fileId}/download?${new URLSearchParams(chat.credentials())}`);

    const traversal = await sent('../../etc/passwd.txt', 'root:x:0:0');
    expect(traversal['file-name']).to.equal('passwd.txt');
    const windows = await sent('..\\..\\boot.ini.txt', 'x');
    expect(windows['file-name']).to.equal('boot.ini.txt');

    // An HTML file (allowed by this service) is a download: octet-stream, attachment, nosniff, sandboxed.
    const page = await sent('<img src=x onerror=alert(1)>.html', '<script>alert(document.cookie)</script>', 'text/html');
    expect(page['file-name']).to.equal('_img src=x onerror=alert(1)_.html');
    expect(page['file-type']).to.equal('application/octet-stream');
    const res = await get(page['file-id']);
    expect(res.headers.get('content-type')).to.equal('application/octet-stream');
    expect(res.headers.get('content-disposition')).to.match(
      /^attachment; filename="_img src=x onerror=alert\(1\)_\.html"; filename\*=UTF-8''/,
    );
    expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(res.headers.get('content-security-policy')).to.equal("default-src 'none'; sandbox");
    expect(await res.text()).to.equal('<script>alert(document.cookie)</script>');
    expect((await sent('logo.svg', '<svg onload="alert(1)"/>', 'image/svg+xml'))['file-type']).to.equal(
      'application/octet-stream',
    );

    // Header injection and lying types: quotes and line breaks never reach a header; a .txt claimed as HTML is text.
    // (FormData escapes such names; a hand-written body can carry them raw, in RFC 5987 form.)
    const boundary = 'x-boundary-x';
    const fields = Object.entries(chat.credentials()).map(
      ([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`,
    );
    const raw =
      fields.join('') +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename*=UTF-8''a%22%0D%0ASet-Cookie%3A%20x%3D1%3B.txt\r\n` +
      `Content-Type: text/html\r\n\r\nplain\r\n--${boundary}--\r\n`;
    const rawReply = await gw.post(`/genesys/2/chat/html-ok/${chat.chatId}/file`, raw, {
      'content-type': `multipart/form-data; boundary=${boundary}`,
    });
    expect(rawReply.status).to.equal(200);
    const crlf = rawReply.body.userData['file-id']
      ? (await chat.call('refresh', { transcriptPosition: '1' })).body.messages.at(-1).userData
      : {};
    expect(crlf['file-name']).to.equal('a___Set-Cookie_ x=1_.txt');
    const crlfRes = await get(crlf['file-id']);
    expect(crlfRes.headers.get('set-cookie')).to.equal(null);
    expect(crlfRes.headers.get('content-type')).to.equal('text/plain; charset=utf-8');
    const unicode = await sent('résumé ‮txt.exe.txt', 'x');
    expect(unicode['file-name']).to.equal('résumé _txt.exe.txt');
    expect((await get(unicode['file-id'])).headers.get('content-disposition')).to.equal(
      `attachment; filename="r_sum_ _txt.exe.txt"; filename*=UTF-8''r%C3%A9sum%C3%A9%20_txt.exe.txt`,
    );
    const long = await sent(`${'n'.repeat(300)}.txt`, 'x');
    expect(long['file-name']).to.have.length(128);
    expect(long['file-name'].endsWith('.txt')).to.equal(true);
    // A name that is only dots and an extension loses its leading dots, and with them its extension.
    const dots = await upload(chat, '....txt', 'x', {}, 'html-ok');
    expect(dots.body.errors[0].code).to.equal(121);
  });
});

describe('files over restarts and expiry', () => {
  it('a file sent before a restart downloads after it, and files are removed with their chat', async () => {
    const file = path.join(await makeTempDir('gms-v2-files-'), 'sessions.sqlite');
    const env = { STORE_URL: `sqlite://${file}`, SWEEP_INTERVAL_MS: '50' };
    const services = {
      'request-chat.json': { fileTransfer: { ...FILES, needAgent: false } },
      'brief.json': { ttl: 1, fileTransfer: { ...FILES, needAgent: false } },
    };
    const first = await startTestGateway({ env, services, endpoints: { 'gms_builtin.json': endpointFile(['alice']) } });
    let second: TestGateway | undefined;
    try {
      const chat = await startV2Chat(first);
      const form = uploadForm(chat.credentials(), 'kept.txt', 'survives restarts');
      const sent = await first.post(`/genesys/2/chat/request-chat/${chat.chatId}/file`, form);
      expect(sent.status).to.equal(200);
      const fileId = sent.body.userData['file-id'] as string;
      await first.close();

      second = await startTestGateway({ env, dir: first.dir });
      const got = await request(
        second.url,
        'GET',
        `/genesys/2/chat/request-chat/${chat.chatId}/file/${fileId}/download?${new URLSearchParams(chat.credentials())}`,
      );
      expect(got.status).to.equal(200);
      expect(got.body).to.equal('survives restarts');

      const brief = await startV2Chat(second, { service: 'brief' });
      const briefSent = await second.post(
        `/genesys/2/chat/brief/${brief.chatId}/file`,
        uploadForm(brief.credentials(), 'short.txt', 'short-lived'),
      );
      expect(briefSent.status).to.equal(200);
      const briefFile = briefSent.body.userData['file-id'] as string;
      expect(await rowsMentioning(file, `file:${brief.chatId}:${briefFile}`)).to.have.length(1);
      const watcher = agentClient(second, 'alice');
      await eventually(
        async () => (await watcher.get(`/chats/${brief.chatId}`)).status === 404,
        5000,
        'the brief chat to expire',
      );
      await eventually(
        async () => (await rowsMentioning(file, `file:${brief.chatId}`)).length === 0,
        3000,
        'its file to be removed',
      );
    } finally {
      await second?.close();
      await first.close();
    }
  });
});
