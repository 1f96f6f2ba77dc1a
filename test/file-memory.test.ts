// Files in a chat and the gateway's memory: on the embedded SQLite store (whose hot values a cache keeps in
// memory), files sent and downloaded are not kept in memory once their call is answered. Measured on the
// heap and outside it (external strings, buffers) after a forced collection, with a real gateway, real uploads and downloads over HTTP.

import { randomBytes } from 'node:crypto';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { expect } from 'chai';
import { startV2Chat } from './helpers/chat-v2-client.ts';
import { makeTempDir, startTestGateway, type TestGateway } from './helpers/gateway.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** The heap and what lives outside it (large strings made from buffers, buffers themselves). */
function memoryAfterCollection(): number {
  gc();
  gc();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

describe('files in a chat are not kept in memory (SQLite store)', function () {
  this.timeout(60_000);
  let gw: TestGateway | undefined;
  after(() => gw?.close());

  it('16 files of 2 MB sent and downloaded leave the memory as it was (within 16 MB)', async () => {
    const dir = await makeTempDir('gms-file-memory-');
    gw = await startTestGateway({
      services: {
        'request-chat.json': {
          fileTransfer: {
            enabled: true,
            needAgent: false,
            maxFiles: 20,
            maxFileSize: 3_000_000,
            maxTotalSize: 100_000_000,
            fileTypes: ['pdf'],
          },
        },
      },
      env: { STORE_URL: `sqlite://${path.join(dir, 'sessions.sqlite')}` },
    });
    const chat = await startV2Chat(gw);
    const upload = async (content: Buffer, name: string): Promise<string> => {
      const form = new FormData();
      for (const [k, v] of Object.entries(chat.credentials())) form.append(k, v);
      form.append('file', new Blob([new Uint8Array(content)]), name);
      const res = await gw!.post(`/genesys/2/chat/request-chat/${chat.chatId}/file`, form);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      return res.body.userData['file-id'] as string;
    };
    // One round first, so that what is allocated once (parsers, statements) is not counted.
    await upload(randomBytes(1000), 'warm-up.pdf');
    const before = memoryAfterCollection();
    const ids: string[] = [];
    for (let i = 0; i < 16; i++) ids.push(await upload(randomBytes(2_000_000), `file-${i}.pdf`));
    const query = `?${new URLSearchParams(chat.credentials())}`;
    for (const id of ids) {
      const res = await fetch(`${gw.url}/genesys/2/chat/request-chat/${chat.chatId}/file/${id}/download${query}`);
      expect(res.status).to.equal(200);
      expect((await res.arrayBuffer()).byteLength).to.equal(2_000_000);
    }
    const grown = memoryAfterCollection() - before;
    // 32 MB of files, 43 MB as the base64 the store holds: a cache keeping them would show here.
    expect(grown / 1e6, `memory grown by ${(grown / 1e6).toFixed(1)} MB`).to.be.below(16);
  });
});
