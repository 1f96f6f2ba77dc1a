// The yardstick of the chat rows: the least a durable GMS chat server can do, in as few lines as
// possible. Koa + @koa/router + koa-bodyparser; sessions kept in memory and written to a better-sqlite3
// file in WAL mode, the writes of one event-loop turn committed as one transaction, each call answered
// only after its write is committed. No validation, no limits, no queue, no push: whatever the gateway
// spends beyond this per request is the price of its features.

import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Router, { type RouterContext } from '@koa/router';
import Database from 'better-sqlite3';
import Koa from 'koa';
import bodyParser from 'koa-bodyparser';

interface Session {
  id: string;
  events: string[][];
  position: number;
  expiresAt: number;
  /** The expiresAt of the last version written to the file (kept out of the file itself). */
  storedExpiresAt?: number;
}
const TTL_MS = 3_600_000;

fs.mkdirSync(path.dirname(process.env.REFERENCE_DB!), { recursive: true });
const db = new Database(process.env.REFERENCE_DB);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, value TEXT NOT NULL)');
db.exec('CREATE TABLE IF NOT EXISTS waiting (id TEXT PRIMARY KEY, since INTEGER NOT NULL)');
const upsert = db.prepare('INSERT OR REPLACE INTO sessions (id, value) VALUES (?, ?)');
const enqueue = db.prepare('INSERT OR IGNORE INTO waiting (id, since) VALUES (?, ?)');
const sessions = new Map<string, Session>();

let pending: { session: Session; queued: boolean; done: () => void }[] = [];
const commit = db.transaction((batch: typeof pending) => {
  for (const { session, queued } of batch) {
    session.storedExpiresAt = session.expiresAt;
    upsert.run(session.id, JSON.stringify({ ...session, storedExpiresAt: undefined }));
    if (queued) enqueue.run(session.id, Date.now());
  }
});
/** Resolves once `session` (and, for a chat start, its place in the waiting queue) is committed. */
function save(session: Session, queued = false): Promise<void> {
  return new Promise((done) => {
    if (pending.length === 0)
      setImmediate(() => {
        const batch = pending;
        pending = [];
        commit(batch);
        for (const p of batch) p.done();
      });
    pending.push({ session, queued, done });
  });
}

const answer = (s: Session, from: number) => ({
  chatIxnState: 'CONNECTED',
  chatSessionId: s.id,
  transcriptPosition: String(s.events.length),
  chatServiceMessage: 'Chat service is available',
  transcriptToShow: s.events.slice(from),
});
const router = new Router({ prefix: '/genesys/1/service' });
router.post('/request-chat', async (ctx) => {
  const session: Session = { id: randomUUID(), events: [], position: 0, expiresAt: Date.now() + TTL_MS };
  sessions.set(session.id, session);
  await save(session);
  ctx.body = { _id: session.id, '_chatIxnAPI-CREATE-URL': `/genesys/1/service/${session.id}/ixn/chat` };
});
const chatCall = async (ctx: RouterContext): Promise<void> => {
  const s = sessions.get(ctx.params.id);
  if (!s) return void (ctx.status = 404);
  const body = ctx.request.body as Record<string, string>;
  const starting = !ctx.params.op;
  if (starting) s.events.push(['Notice.Joined', String(body.firstName), '', '0', 'CLIENT']);
  if (ctx.params.op === 'send') s.events.push(['Message.Text', 'Ann', String(body.message), '1', 'CLIENT']);
  const from = s.position;
  const now = Date.now();
  // Like the gateway, a poll with nothing new writes nothing while the expiry on disk lags by under a
  // second (the one in memory moves with every call; what a restart would find is the one written).
  const changed = s.events.length !== s.position || now + TTL_MS - (s.storedExpiresAt ?? 0) >= 1000;
  s.position = s.events.length;
  s.expiresAt = now + TTL_MS;
  if (changed) await save(s, starting);
  ctx.body = answer(s, from);
};
router.post('/:id/ixn/chat', chatCall);
router.post('/:id/ixn/chat/:op', chatCall);
const app = new Koa()
  .use((ctx, next) => (ctx.path === '/healthz' ? void (ctx.body = 'ok') : next()))
  .use(bodyParser())
  .use(router.routes());
const server = app.listen(Number(process.env.PORT), '127.0.0.1');
process.once('SIGTERM', () =>
  server.close(() => {
    db.close();
    process.exit(0);
  }),
);
