// The agent API on the embedded SQLite store, against a bare Koa "hello" server measured in the same
// run: listing a waiting queue of 100 chats, and agent messages (bearer auth + send) into 200 accepted
// chats, with p50/p99 latency. BENCH_SECONDS (default 10) and BENCH_CONNECTIONS (default 16) as elsewhere.

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon, { type Options, type Request } from 'autocannon';
import { hashToken } from '../src/endpoints/token-hash.ts';
import { startChild } from './lib/processes.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const WAITING = 100;
const ACCEPTED = 200;
const TOKEN = 'bench-agent-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };

interface Figures {
  name: string;
  requestsPerSec: number;
  p50: number;
  p99: number;
  failed: number;
}

async function load(name: string, options: Options): Promise<Figures> {
  await autocannon({ ...options, duration: 2 });
  const result = await autocannon({ connections: CONNECTIONS, duration: SECONDS, ...options });
  return { name, requestsPerSec: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, failed: result.non2xx + result.errors + result.timeouts };
}

async function startChats(url: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 25) {
    ids.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(25, count - i) }, async () => {
          const created = (await (await fetch(`${url}/genesys/1/service/request-chat`, { method: 'POST' })).json()) as { _id: string };
          const started = await fetch(`${url}/genesys/1/service/${created._id}/ixn/chat`, { method: 'POST', body: new URLSearchParams({ firstName: 'Ann' }) });
          return ((await started.json()) as { chatSessionId: string }).chatSessionId;
        }),
      )),
    );
  }
  return ids;
}

async function main(): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gms-bench-'));
  await fs.mkdir(path.join(dir, 'services.d'));
  await fs.mkdir(path.join(dir, 'endpoints.d'));
  await fs.writeFile(path.join(dir, 'services.d', 'request-chat.json'), '{}');
  await fs.writeFile(
    path.join(dir, 'endpoints.d', 'gms_builtin.json'),
    JSON.stringify({ agents: [{ id: 'bench', nickname: 'Bench', token: hashToken(TOKEN) }] }),
  );

  const koa = await startChild(path.join(root, 'bench/lib/hello-koa.ts'), {});
  const bare = await load('bare Koa "hello" (GET)', { url: koa.url });
  await koa.stop();

  const gateway = await startChild(
    path.join(root, 'src/main.ts'),
    {
      SERVICES_DIR: path.join(dir, 'services.d'),
      ENDPOINTS_DIR: path.join(dir, 'endpoints.d'),
      STORE_URL: `sqlite://${path.join(dir, 'data', 'sessions.sqlite')}`,
      LOG_LEVEL: 'warn',
    },
    '/healthz',
  );
  try {
    const accepted = await startChats(gateway.url, ACCEPTED);
    for (const id of accepted) {
      const reply = await fetch(`${gateway.url}/agent/v1/chats/${id}/accept`, { method: 'POST', headers: AUTH });
      if (reply.status !== 200) throw new Error(`accept failed: ${reply.status}`);
    }
    await startChats(gateway.url, WAITING);

    const queue = await load(`GET waiting queue (${WAITING} chats)`, { url: `${gateway.url}/agent/v1/chats?state=waiting`, headers: AUTH });
    const sendRequests: Request[] = [
      {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json' },
        setupRequest: (req) => ({
          ...req,
          path: `/agent/v1/chats/${accepted[Math.floor(Math.random() * accepted.length)]}/send`,
          body: '{"message":"How can I help?"}',
        }),
      },
    ];
    const send = await load(`agent send, ${ACCEPTED} accepted chats`, { url: gateway.url, requests: sendRequests });

    console.log(`${CONNECTIONS} connections, ${SECONDS} s each, on ${os.cpus().length} CPU(s), store: SQLite file`);
    console.log('| load | req/s | × bare Koa | p50 ms | p99 ms | non-2xx/errors |');
    console.log('|---|---|---|---|---|---|');
    for (const row of [bare, queue, send]) {
      const ratio = (row.requestsPerSec / bare.requestsPerSec).toFixed(2);
      console.log(`| ${row.name} | ${row.requestsPerSec.toFixed(0)} | ${ratio} | ${row.p50} | ${row.p99} | ${row.failed} |`);
    }
  } finally {
    await gateway.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

await main();
