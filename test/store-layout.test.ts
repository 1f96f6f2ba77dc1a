// The store's layout mark: a new store is marked at its first start and opens again; a store written by
// a development build (another layout, or sessions without a mark) is refused at start, left as it was,
// with a message saying to delete it.

import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { makeTempDir, startTestGateway, type TestGateway } from './helpers/gateway.ts';

/** An SQLite file holding `rows` as keyv's table lays them out (namespace `gms`). */
function writeRows(file: string, rows: Record<string, unknown>): void {
  const db = new Database(file);
  db.exec('CREATE TABLE keyv(key VARCHAR(255) PRIMARY KEY, value TEXT )');
  const insert = db.prepare('INSERT INTO keyv (key, value) VALUES (?, ?)');
  for (const [key, value] of Object.entries(rows))
    insert.run(`gms:${key}`, JSON.stringify({ value, expires: Date.now() + 3_600_000 }));
  db.close();
}

function keysIn(file: string): string[] {
  const db = new Database(file, { readonly: true });
  const keys = db.prepare<[], { key: string }>('SELECT key FROM keyv ORDER BY key').all();
  db.close();
  return keys.map((row) => row.key);
}

const session = {
  id: 'S1',
  service: 'request-chat',
  createdAt: 1,
  lastActivity: 1,
  ttl: 600,
  expiresAt: Date.now() + 600_000,
  data: {},
};

describe('the store layout', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('a new store is marked at its first start, and starts again with the chats it keeps', async () => {
    const file = path.join(await makeTempDir('gms-layout-'), 'sessions.sqlite');
    const env = { STORE_URL: `sqlite://${file}` };
    gw = await startTestGateway({ env });
    const created = await gw.post('/genesys/1/service/request-chat');
    expect(created.status).to.equal(200);
    await gw.close();
    gw = await startTestGateway({ env });
    expect((await gw.post(`/genesys/1/service/${created.body._id}/ixn/chat`, 'firstName=Ann')).status).to.equal(200);
  });

  for (const [written, rows] of [
    ['sessions without a layout mark', { 'session:S1': session }],
    ['another layout', { 'store-layout': 5 }],
  ] as const) {
    it(`a store written by a development build (${written}) is refused at start, left as it was, with a message to delete it`, async () => {
      const file = path.join(await makeTempDir('gms-layout-'), 'sessions.sqlite');
      writeRows(file, rows);
      const before = keysIn(file);
      let refusal: unknown;
      await startTestGateway({ env: { STORE_URL: `sqlite://${file}` } }).then(
        (started) => (gw = started),
        (err: unknown) => (refusal = err),
      );
      expect(gw, 'the gateway started').to.equal(undefined);
      expect(String(refusal)).to.match(/written by a development build.*delete it/);
      expect(keysIn(file)).to.deep.equal(before);
    });
  }
});
