// The sessions are kept in keyv: the store reads its keys through keyv (a storage adapter over each
// backend), so what keyv writes the gateway reads, and keyv's expiry rules apply; a read never deletes
// (a row a writer renewed meanwhile must survive), expired rows are left to the sweep and the scans.

import path from 'node:path';
import { expect } from 'chai';
import Keyv from 'keyv';
import { EmbeddedSqlite } from '../src/store/embedded-sqlite.ts';
import { KeyvBackendAdapter } from '../src/store/keyv-adapter.ts';
import { KvStore } from '../src/store/kv-store.ts';
import { LocalLock } from '../src/store/local-lock.ts';
import { MemoryBackend } from '../src/store/memory-backend.ts';
import type { Backend } from '../src/store/store.ts';
import { makeTempDir } from './helpers/gateway.ts';
import { storedRows } from './helpers/sqlite-file.ts';

describe('sessions kept in keyv', () => {
  const backends: Backend[] = [];
  afterEach(async () => {
    for (const b of backends.splice(0)) await b.close();
  });

  const sqlite = async (): Promise<{ backend: Backend; file: string }> => {
    const file = path.join(await makeTempDir('gms-keyv-'), 'sessions.sqlite');
    const backend = await EmbeddedSqlite.open(file, { busyTimeoutMs: 2000, pageSize: 100, namespace: 'gms' });
    backends.push(backend);
    return { backend, file };
  };

  for (const kind of ['memory', 'sqlite'] as const) {
    it(`${kind}: a value keyv itself writes is read by the store, and one the store writes is read by keyv, in keyv's row format`, async () => {
      const backend = kind === 'memory' ? new MemoryBackend() : (await sqlite()).backend;
      if (kind === 'memory') backends.push(backend);
      const keyv = new Keyv(new KeyvBackendAdapter(backend), {
        namespace: undefined,
        serialize: undefined,
        deserialize: undefined,
      });
      const store = new KvStore(backend, new LocalLock());
      await keyv.set('session:K', { id: 'K', note: ':starts with a colon' }, 60_000);
      expect(await store.get('session:K')).to.deep.equal({ id: 'K', note: ':starts with a colon' });
      await store.set('session:S', { id: 'S' }, 60_000);
      expect(await keyv.get('session:S')).to.deep.equal({ id: 'S' });
      const row = (await keyv.get('session:S', { raw: true }))!;
      expect(row.expires).to.be.within(Date.now() + 50_000, Date.now() + 60_000);
    });
  }

  it('an expired row reads as absent and stays in the file for the sweep: a read never deletes', async () => {
    const { backend, file } = await sqlite();
    const store = new KvStore(backend, new LocalLock());
    await store.set('session:OLD', { id: 'OLD' }, 1);
    await new Promise((r) => setTimeout(r, 5));
    expect(await store.get('session:OLD')).to.equal(undefined);
    expect((await storedRows(file)).map((r) => r.key)).to.include('gms:session:OLD');
    // The scan (the sweep's full pass) is what removes it.
    for await (const entry of store.entries('session:')) expect.fail(`an expired row was listed: ${String(entry[0])}`);
    expect((await storedRows(file)).map((r) => r.key)).not.to.include('gms:session:OLD');
  });
});
