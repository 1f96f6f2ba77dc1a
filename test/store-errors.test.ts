// What a customer gets when the session store fails: a store that cannot answer now is an outage (503
// ServiceUnavailable, try again), while anything else (a row that is not JSON, a bug) is a 500
// InternalError logged at `error` with its cause, never passed off as an outage.

import path from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { pino } from 'pino';
import { startGateway, type Gateway } from '../src/gateway.ts';
import { startCustomerChat } from './helpers/chat-client.ts';
import { makeTempDir, request, startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { otherConnection } from './helpers/sqlite-file.ts';

interface LogLine {
  level: number;
  msg: string;
  err?: { type?: string; message?: string };
}

describe('session store failures', () => {
  let file: string;
  let first: TestGateway;
  let second: Gateway | undefined;
  const lines: LogLine[] = [];

  beforeEach(async () => {
    file = path.join(await makeTempDir('gms-store-errors-'), 'sessions.sqlite');
    first = await startTestGateway({ env: { STORE_URL: `sqlite://${file}` } });
    lines.length = 0;
  });

  afterEach(async () => {
    await first.close();
    await second?.close();
    second = undefined;
  });

  /** Starts a gateway on the same installation whose log lines (warn and up) the test reads. */
  async function restartWithLog(): Promise<Gateway> {
    await first.close();
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
        done();
      },
    });
    second = await startGateway(first.settings, pino({ level: 'warn' }, sink));
    return second;
  }

  it('a stored session that is not valid JSON answers 500 InternalError and is logged at error with its cause', async () => {
    const chat = await startCustomerChat(first);
    const db = otherConnection(file);
    db.prepare('UPDATE keyv SET value = \'{"value": {broken\' WHERE key LIKE ?').run(`%session:${chat.id}`);
    db.close();
    const gw = await restartWithLog();
    const reply = await request(gw.url, 'POST', `/genesys/1/service/${chat.id}/ixn/chat/refresh`);
    expect([reply.status, reply.body.exception]).to.deep.equal([500, 'InternalError']);
    const logged = lines.find((l) => l.level === 50);
    expect(logged, JSON.stringify(lines)).to.not.equal(undefined);
    expect(logged!.err?.type).to.equal('SyntaxError');
  });

  it('a store that refuses writes answers 503 ServiceUnavailable, and no error is logged', async () => {
    const chat = await startCustomerChat(first);
    const gw = await restartWithLog();
    const db = otherConnection(file);
    db.exec('ALTER TABLE keyv RENAME TO moved');
    try {
      const reply = await request(gw.url, 'POST', `/genesys/1/service/${chat.id}/ixn/chat/send`, { message: 'hello' });
      expect([reply.status, reply.body.exception]).to.deep.equal([503, 'ServiceUnavailable']);
      expect(lines.filter((l) => l.level >= 50)).to.deep.equal([]);
    } finally {
      db.exec('ALTER TABLE moved RENAME TO keyv');
      db.close();
    }
  });
});
