// Chat API v1 over polling on the embedded SQLite store, against a bare Koa "hello" server measured in
// the same run: chat starts per second, and send+refresh requests per second with 1,000 live chats,
// with p50/p99 latency. Servers run as child processes; autocannon drives them from this one.
// BENCH_SECONDS (default 10) sets each measurement's length, BENCH_CONNECTIONS (default 16) the load,
// BENCH_STORE_URL another store to compare with (memory://, redis://...).

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon, { type Options, type Request, type Result } from 'autocannon';
import { startChild } from './lib/processes.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const LIVE_CHATS = 1000;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** What one autocannon connection remembers between the requests of its sequence. */
interface ChatContext {
  id?: string;
}

const chatOf = (context: object): string => String((context as ChatContext).id);

interface Figures {
  name: string;
  requestsPerSec: number;
  p50: number;
  p99: number;
  failed: number;
}

async function load(name: string, options: Options): Promise<Figures> {
  // A short warm-up first, so that both servers are measured with their code compiled.
  await autocannon({ ...options, duration: 2 });
  const result: Result = await autocannon({ connections: CONNECTIONS, duration: SECONDS, ...options });
  return {
    name,
    requestsPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failed: result.non2xx + result.errors + result.timeouts,
  };
}

async function main(): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gms-bench-'));
  await fs.mkdir(path.join(dir, 'services.d'));
  await fs.mkdir(path.join(dir, 'endpoints.d'));
  await fs.writeFile(path.join(dir, 'services.d', 'request-chat.json'), '{}');
  await fs.writeFile(path.join(dir, 'endpoints.d', 'gms_builtin.json'), '{"open": true}');

  const koa = await startChild(path.join(root, 'bench/lib/hello-koa.ts'), {});
  const bare = await load('bare Koa "hello" (GET)', { url: koa.url, connections: CONNECTIONS });
  await koa.stop();

  const gateway = await startChild(
    path.join(root, 'src/main.ts'),
    {
      SERVICES_DIR: path.join(dir, 'services.d'),
      ENDPOINTS_DIR: path.join(dir, 'endpoints.d'),
      STORE_URL: process.env.BENCH_STORE_URL ?? `sqlite://${path.join(dir, 'data', 'sessions.sqlite')}`,
      LOG_LEVEL: 'warn',
      ...(process.env.SWEEP_INTERVAL_MS ? { SWEEP_INTERVAL_MS: process.env.SWEEP_INTERVAL_MS } : {}),
    },
    '/healthz',
  );
  try {
    // One chat start is two requests: create the service session, then start its chat.
    const startRequests: Request[] = [
      {
        method: 'POST',
        path: '/genesys/1/service/request-chat',
        headers: FORM,
        body: 'topic=bench',
        onResponse: (status, body, context) => {
          if (status === 200) (context as ChatContext).id = (JSON.parse(body) as { _id: string })._id;
        },
      },
      {
        method: 'POST',
        headers: FORM,
        setupRequest: (req, context) => ({ ...req, path: `/genesys/1/service/${chatOf(context)}/ixn/chat`, body: 'firstName=Ann' }),
      },
    ];
    // Measured first, with the customer leaving at once so that the endpoint's waiting queue stays
    // short; then chats that stay and pile up in the queue, as in a rush with no agent free.
    const leaveRequest: Request = {
      method: 'POST',
      setupRequest: (req, context) => ({ ...req, path: `/genesys/1/service/${chatOf(context)}/ixn/chat/disconnect` }),
    };
    const startLeave = await load('chat start + leave (3 requests)', { url: gateway.url, requests: [...startRequests, leaveRequest] });
    const starts = await load('chat start (create + start, 2 requests)', { url: gateway.url, requests: startRequests });

    const live: string[] = [];
    for (let batch = 0; batch < LIVE_CHATS / 50; batch++) {
      live.push(
        ...(await Promise.all(
          Array.from({ length: 50 }, async () => {
            const created = (await (await fetch(`${gateway.url}/genesys/1/service/request-chat`, { method: 'POST' })).json()) as { _id: string };
            const started = await fetch(`${gateway.url}/genesys/1/service/${created._id}/ixn/chat`, { method: 'POST', headers: FORM, body: 'firstName=Ann' });
            if (started.status !== 200) throw new Error(`could not start a chat: ${started.status}`);
            return created._id;
          }),
        )),
      );
    }
    const pollRequests: Request[] = [
      {
        method: 'POST',
        headers: FORM,
        setupRequest: (req, context) => {
          (context as ChatContext).id = live[Math.floor(Math.random() * live.length)];
          return { ...req, path: `/genesys/1/service/${chatOf(context)}/ixn/chat/send`, body: 'message=Hello%2C%20is%20anyone%20there%3F' };
        },
      },
      {
        method: 'POST',
        setupRequest: (req, context) => ({ ...req, path: `/genesys/1/service/${chatOf(context)}/ixn/chat/refresh` }),
      },
    ];
    const poll = await load(`send + refresh, ${LIVE_CHATS} live chats`, { url: gateway.url, requests: pollRequests });

    const rows = [bare, startLeave, starts, poll];
    console.log(`${CONNECTIONS} connections, ${SECONDS} s each, on ${os.cpus().length} CPU(s), store: ${process.env.BENCH_STORE_URL ?? 'SQLite file'}`);
    console.log('| load | req/s | × bare Koa | p50 ms | p99 ms | non-2xx/errors |');
    console.log('|---|---|---|---|---|---|');
    for (const row of rows) {
      const ratio = (row.requestsPerSec / bare.requestsPerSec).toFixed(2);
      console.log(`| ${row.name} | ${row.requestsPerSec.toFixed(0)} | ${ratio} | ${row.p50} | ${row.p99} | ${row.failed} |`);
    }
    console.log(`chat starts/s: ${(starts.requestsPerSec / 2).toFixed(0)} (queue growing), ${(startLeave.requestsPerSec / 3).toFixed(0)} (queue kept short)`);
    const target = (row: Figures): string =>
      row.requestsPerSec >= bare.requestsPerSec / 2 && row.p99 < 20 ? 'met' : 'MISSED';
    console.log(`target (>= 0.5 x bare Koa, p99 < 20 ms): chat start ${target(starts)}, send+refresh ${target(poll)}`);
  } finally {
    await gateway.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

await main();
