// The embedded SQLite store's backend on a real file: a write is acknowledged only once it is in the
// file (another connection reads it back), writes issued together keep their order, a commit of many
// rows and set members is all in the file or none of it, a failed write is reported to its caller (and
// is a 503 through the store), and scans page through the keys in order.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { built } from './helpers/built.ts';
import { GatewayError } from '../src/errors.ts';
import { createLogger } from '../src/log.ts';
import { EmbeddedSqlite } from '../src/store/embedded-sqlite.ts';
import { openStore } from '../src/store/open-store.ts';
import { eventually, makeTempDir } from './helpers/gateway.ts';
import { otherConnection, storedRows } from './helpers/sqlite-file.ts';

describe('the embedded SQLite backend', () => {
  let file: string;
  const open: EmbeddedSqlite[] = [];

  /** The backend with keyv's old get/set/delete calls, as the tests read best. */
  const openKeyv = async (options: { busyTimeoutMs?: number; pageSize?: number; walLimitBytes?: number } = {}) => {
    const backend = await EmbeddedSqlite.open(file, { busyTimeoutMs: 5000, pageSize: 250, namespace: 'gms', ...options });
    open.push(backend);
    return {
      backend,
      set: (key: string, value: unknown) => backend.commit([{ kind: 'set', key, value, ttlMs: 60_000 }]),
      delete: (key: string) => backend.commit([{ kind: 'delete', key }]),
      get: async <T>(key: string) => (await backend.read(key))?.value as T | undefined,
    };
  };
  const close = async (keyv: { backend: EmbeddedSqlite }): Promise<void> => {
    open.splice(open.indexOf(keyv.backend), 1);
    await keyv.backend.close();
  };
  /** What the file holds, read by a connection of its own. */
  const inFile = async (): Promise<Map<string, unknown>> =>
    new Map((await storedRows(file)).map((row) => [row.key, (JSON.parse(row.value) as { value: unknown }).value]));

  beforeEach(async () => {
    file = path.join(await makeTempDir('gms-sqlite-'), 'sessions.sqlite');
  });

  afterEach(async () => {
    for (const backend of open.splice(0)) await backend.close().catch(() => undefined);
  });

  it('1,000 writes at once are each acknowledged only once in the file, read back at once, and all there after reopening', async () => {
    const keyv = await openKeyv();
    const keys = Array.from({ length: 1000 }, (_, i) => `session:${i}`);
    await Promise.all(keys.map((key, i) => keyv.set(key, { n: i, text: 'x'.repeat(3000) })));
    // Acknowledged means committed: another connection sees every row before this one is closed.
    const rows = await inFile();
    expect(keys.filter((key, i) => (rows.get(`gms:${key}`) as { n: number } | undefined)?.n !== i)).to.deep.equal([]);
    expect(await keyv.get('session:999')).to.deep.equal({ n: 999, text: 'x'.repeat(3000) });
    await close(keyv);

    const reopened = await openKeyv();
    const values = await Promise.all(keys.map((key) => reopened.get<{ n: number }>(key)));
    expect(values.map((v) => v?.n)).to.deep.equal(keys.map((_, i) => i));
  });

  it('sets and deletes reaching the backend together are written in the order they came', async () => {
    const keyv = await openKeyv();
    // The first write keeps the file busy, so the others queue up and go to the file together.
    await Promise.all([
      keyv.set('busy', 'first'),
      keyv.set('gone', '1'),
      keyv.delete('gone'),
      keyv.set('back', '1'),
      keyv.delete('back'),
      keyv.set('back', '2'),
      keyv.set('twice', '1'),
      keyv.set('twice', '2'),
      keyv.delete('never-there'),
    ]);
    expect(await Promise.all(['gone', 'back', 'twice'].map((key) => keyv.get(key)))).to.deep.equal([undefined, '2', '2']);
    expect([...(await inFile())].map(([key, value]) => `${key}=${String(value)}`).sort()).to.deep.equal([
      'gms:back=2',
      'gms:busy=first',
      'gms:twice=2',
    ]);
  });

  it('a commit of rows and set members is in the file whole, or (refused) not at all', async () => {
    const keyv = await openKeyv({ busyTimeoutMs: 50 });
    const change = (n: number) =>
      keyv.backend.commit([
        { kind: 'set', key: `session:${n}`, value: { n }, ttlMs: 60_000 },
        { kind: 'add', set: 'queue:sales', member: `chat-${n}`, score: n },
        { kind: 'remove', set: 'queue:sales', member: `chat-${n - 1}` },
      ]);
    await change(1);
    const other = otherConnection(file);
    try {
      other.exec('BEGIN IMMEDIATE');
      expect((await Promise.allSettled([change(2)]))[0].status).to.equal('rejected');
      other.exec('ROLLBACK');
    } finally {
      other.close();
    }
    expect(await keyv.backend.members('queue:sales')).to.deep.equal(['chat-1']);
    expect([...(await inFile())]).to.deep.equal([
      ['gms:session:1', { n: 1 }],
      ['gms:queue:sales', 'chat-1'],
    ]);
    await change(2);
    expect(await keyv.backend.members('queue:sales')).to.deep.equal(['chat-2']);
    expect(await keyv.backend.count('queue:sales')).to.equal(1);
    expect([...(await inFile())]).to.deep.equal([
      ['gms:session:1', { n: 1 }],
      ['gms:session:2', { n: 2 }],
      ['gms:queue:sales', 'chat-2'],
    ]);
  });

  it("a set's size is counted in one row read, kept with its members", async () => {
    const keyv = await openKeyv();
    const ops = (kind: 'add' | 'remove', from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) =>
        kind === 'add'
          ? { kind, set: 'queue:sales', member: `c${from + i}`, score: from + i }
          : { kind, set: 'queue:sales', member: `c${from + i}` },
      );
    await keyv.backend.commit([...ops('add', 0, 500), { kind: 'add', set: 'queue:other', member: 'x', score: 1 }]);
    // Adding a member again (a new score) and removing one that is not there change no size.
    await keyv.backend.commit([{ kind: 'add', set: 'queue:sales', member: 'c1', score: 9 }, ...ops('remove', 900, 910)]);
    await keyv.backend.commit(ops('remove', 0, 100));
    expect(await keyv.backend.count('queue:sales')).to.equal(400);
    expect(await keyv.backend.count('queue:other')).to.equal(1);
    await keyv.backend.commit([{ kind: 'remove', set: 'queue:other', member: 'x' }]);
    expect(await keyv.backend.count('queue:other')).to.equal(0);
    await close(keyv);
  });

  it('a file whose set sizes an earlier version kept by triggers goes on counting each member once', async () => {
    const first = await openKeyv();
    await first.backend.commit([{ kind: 'add', set: 'queue:sales', member: 'a', score: 1 }]);
    await close(first);
    const db = otherConnection(file);
    db.exec(`CREATE TRIGGER member_added AFTER INSERT ON members BEGIN
      INSERT INTO member_counts (name, n) VALUES (new.name, 1) ON CONFLICT (name) DO UPDATE SET n = n + 1;
    END`);
    db.close();
    const keyv = await openKeyv();
    await keyv.backend.commit([{ kind: 'add', set: 'queue:sales', member: 'b', score: 2 }]);
    expect(await keyv.backend.count('queue:sales')).to.equal(2);
    await close(keyv);
  });

  it("a record's members are moved by their owner, leave their sets with it, and are found without it too", async () => {
    const keyv = await openKeyv();
    const owner = 'session:A';
    const add = (set: string, member: string, score: number) => ({ kind: 'add' as const, set, member, score, owner });
    await keyv.backend.commit([
      { kind: 'set', key: owner, value: { n: 1 }, ttlMs: 60_000 },
      add('queue:sales', 'chat-A', 10),
      add('expiry', 'A', 100),
    ]);
    await keyv.backend.commit([
      { kind: 'set', key: 'session:B', value: { n: 2 }, ttlMs: 60_000 },
      { ...add('queue:sales', 'chat-B', 20), owner: 'session:B' },
    ]);
    // A new record's members may come before it in their commit: it lists them all the same.
    await keyv.backend.commit([
      { ...add('queue:sales', 'chat-C', 25), owner: 'session:C' },
      { kind: 'set', key: 'session:C', value: { n: 4 }, ttlMs: 60_000 },
    ]);
    expect(await keyv.backend.members('queue:sales')).to.deep.equal(['chat-A', 'chat-B', 'chat-C']);
    await keyv.delete('session:C');
    expect(await keyv.backend.members('queue:sales')).to.deep.equal(['chat-A', 'chat-B']);
    // Moved: its old place goes, whether the record is written in the same commit or not.
    await keyv.backend.commit([add('queue:sales', 'chat-A', 30), { kind: 'set', key: owner, value: { n: 3 }, ttlMs: 60_000 }]);
    expect(await keyv.backend.members('queue:sales')).to.deep.equal(['chat-B', 'chat-A']);
    await keyv.backend.commit([add('expiry', 'A', 5)]);
    expect(await keyv.backend.upTo('expiry', 50, 10)).to.deep.equal(['A']);
    expect(await keyv.get(owner)).to.deep.equal({ n: 3 });
    // A repair that does not know the owner removes the member all the same, and the owner can add it again.
    await keyv.backend.commit([{ kind: 'remove', set: 'queue:sales', member: 'chat-A' }]);
    expect(await keyv.backend.members('queue:sales')).to.deep.equal(['chat-B']);
    await keyv.backend.commit([add('queue:sales', 'chat-A', 30)]);
    expect(await keyv.backend.members('queue:sales')).to.deep.equal(['chat-B', 'chat-A']);
    expect(await keyv.backend.count('queue:sales')).to.equal(2);
    // Deleting the record takes its members out of every set.
    await keyv.delete(owner);
    expect(await keyv.backend.members('queue:sales')).to.deep.equal(['chat-B']);
    expect(await keyv.backend.count('queue:sales')).to.equal(1);
    expect(await keyv.backend.count('expiry')).to.equal(0);
    // So does a record that expired, when a scan meets it.
    await keyv.backend.commit([{ kind: 'set', key: 'session:B', value: { n: 2 }, ttlMs: 1 }]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    for await (const entry of keyv.backend.scan('session:')) expect.fail(`expired row ${String(entry[0])} read`);
    expect(await keyv.backend.count('queue:sales')).to.equal(0);
    await close(keyv);
  });

  it('writes refused by the file (locked by another connection) fail for their callers, and the next write is committed as soon as it is free', async () => {
    const keyv = await openKeyv({ busyTimeoutMs: 50 });
    await keyv.set('before', 1);
    const other = otherConnection(file);
    try {
      other.exec('BEGIN IMMEDIATE');
      const refused = await Promise.allSettled([keyv.set('a', 1), keyv.set('b', 2), keyv.delete('before')]);
      expect(refused.map((r) => r.status)).to.deep.equal(['rejected', 'rejected', 'rejected']);
      expect(String((refused[0] as PromiseRejectedResult).reason)).to.match(/locked|busy/i);
      other.exec('ROLLBACK');
    } finally {
      other.close();
    }
    // Acknowledged means committed: the failed statements left no transaction open to hold this write back.
    await keyv.set('after', 3);
    expect([...(await inFile()).keys()].sort()).to.deep.equal(['gms:after', 'gms:before']);
  });

  it('a write the store cannot make answers ServiceUnavailable (503) to its caller, and the store keeps serving', async () => {
    const store = await openStore({ url: `sqlite://${file}`, prefix: 'gms', log: createLogger('silent') });
    try {
      await store.set('kept', { n: 1 }, 60_000);
      // Another process takes the table away under the store.
      const other = otherConnection(file);
      other.exec('ALTER TABLE keyv RENAME TO moved');
      const failed = await store.set('lost', { n: 2 }, 60_000).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failed).to.be.instanceOf(GatewayError);
      expect((failed as GatewayError).status).to.equal(503);
      other.exec('ALTER TABLE moved RENAME TO keyv');
      other.close();
      await store.set('again', { n: 3 }, 60_000);
      expect(await store.get('again')).to.deep.equal({ n: 3 });
    } finally {
      await store.close();
    }
  });

  it('a scan pages through the keys in key order, and keys deleted during the scan make it skip none of the others', async () => {
    const keyv = await openKeyv({ pageSize: 3 });
    const keys = Array.from({ length: 10 }, (_, i) => `k${i}`);
    await Promise.all([...keys].reverse().map((key) => keyv.set(key, key)));
    const seen: string[] = [];
    for await (const [key] of keyv.backend.scan('')) {
      seen.push(key);
      await keyv.delete(key);
    }
    expect(seen).to.deep.equal(keys);
    expect(await inFile()).to.have.property('size', 0);
  });

  it('the write-ahead log is checkpointed into the file beside the event loop, not by the commits', async () => {
    const keyv = await openKeyv();
    // Far fewer pages than SQLite's own automatic checkpoint (1,000) would wait for.
    await Promise.all(Array.from({ length: 200 }, (_, i) => keyv.set(`k${i}`, { n: i })));
    // The main file alone, without its log, soon holds every row: the checkpoint ran without a commit.
    const copy = path.join(path.dirname(file), 'copy.sqlite');
    await eventually(
      async () => {
        await fs.copyFile(file, copy);
        return (await storedRows(copy)).length === 200;
      },
      10_000,
      'a checkpoint to write every row into the file',
    );
    // Closing empties the log into the file and removes it.
    await close(keyv);
    const wal = await fs.stat(`${file}-wal`).then(
      () => 'still there',
      () => 'gone',
    );
    expect(wal).to.equal('gone');
  });

  it('under writes that never pause, the write-ahead log is cut back past its limit, and once they stop', async function () {
    this.timeout(60_000);
    const limit = 512 * 1024;
    const keyv = await openKeyv({ walLimitBytes: limit });
    const walBytes = (): Promise<number> =>
      fs.stat(`${file}-wal`).then(
        (s) => s.size,
        () => 0,
      );
    const text = 'x'.repeat(4000);
    // Commits one after another with no pause in which a passive checkpoint could find the log complete:
    // without the limit the log only ever grows (to ~72 MB for 60 MB written).
    let largest = 0;
    let cutBack = false;
    // At least ~60 MB and 10 s (a busy machine may hold the checkpoint thread back), at most ~150 MB.
    const started = Date.now();
    for (let batch = 0; !cutBack && (batch < 300 || Date.now() - started < 10_000) && batch < 750; batch++) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => keyv.set(`k${(batch * 50 + i) % 2000}`, { batch, text })));
      const bytes = await walBytes();
      cutBack ||= largest > limit && bytes < largest;
      largest = Math.max(largest, bytes);
    }
    expect(cutBack, `the log grew to ${largest} bytes and was never cut back`).to.equal(true);
    // Once the writes stop, the next checkpoint empties the log and cuts it back under the limit.
    await eventually(async () => (await walBytes()) <= limit, 10_000, 'the log cut back under its limit');
    expect((await inFile()).size).to.be.within(1, 2000);
  });

  it('a process that closes the store right after many writes waits for the last checkpoint, and exits 0', async () => {
    const openStoreModule = built('store/open-store');
    const logModule = built('log');
    // Nothing else keeps this process alive while the checkpoint worker finishes.
    const script = `
      import { openStore } from ${JSON.stringify(openStoreModule)};
      import { createLogger } from ${JSON.stringify(logModule)};
      const store = await openStore({ url: ${JSON.stringify(`sqlite://${file}`)}, prefix: 'gms', log: createLogger('silent') });
      await Promise.all(Array.from({ length: 20000 }, (_, i) => store.set('k' + i, { n: i, text: 'x'.repeat(500) }, 60000)));
      await store.close();
      console.log('closed');
    `;
    // A module file, as a program's entry point is: its top-level await is what must not be left unsettled.
    const entry = path.join(path.dirname(file), 'close-store.mjs');
    await fs.writeFile(entry, script);
    const run = spawnSync(process.execPath, [entry], { encoding: 'utf8', timeout: 30_000 });
    expect({ status: run.status, out: run.stdout.trim() }).to.deep.equal({ status: 0, out: 'closed' });
  });
});
