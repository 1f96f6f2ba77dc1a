// Chat API v1 over polling on the embedded SQLite store, against a bare Koa "hello" server measured in
// the same run: chat starts per second, and send+refresh requests per second with 1,000 live chats,
// with p50/p99 latency. Servers run as child processes; autocannon drives them from this one.
// BENCH_SECONDS and BENCH_CONNECTIONS as in lib/load.ts; BENCH_STORE_URL another store to compare
// with (memory://, redis://...).

import type { Request } from 'autocannon';
import { FORM, chatStartRequests, inBatches, startChat, chatOf, type ChatContext } from './lib/chats.ts';
import { startBenchGateway, startHelloKoa } from './lib/gateway.ts';
import { load, printTable, type Figures } from './lib/load.ts';

const LIVE_CHATS = 1000;

const koa = await startHelloKoa();
const bare = await load('bare Koa "hello" (GET)', { url: koa.url }, koa);
await koa.stop();

const gateway = await startBenchGateway({
  storeUrl: process.env.BENCH_STORE_URL,
  env: process.env.SWEEP_INTERVAL_MS ? { SWEEP_INTERVAL_MS: process.env.SWEEP_INTERVAL_MS } : {},
});
try {
  const startRequests = chatStartRequests;
  // Measured first, with the customer leaving at once so that the endpoint's waiting queue stays
  // short; then chats that stay and pile up in the queue, as in a rush with no agent free.
  const leaveRequest: Request = {
    method: 'POST',
    setupRequest: (req, context) => ({ ...req, path: `/genesys/1/service/${chatOf(context)}/ixn/chat/disconnect` }),
  };
  const startLeave = await load(
    'chat start + leave (3 requests)',
    { url: gateway.url, requests: [...startRequests, leaveRequest] },
    gateway,
  );
  const starts = await load('chat start (create + start, 2 requests)', { url: gateway.url, requests: startRequests }, gateway);

  const live = (await inBatches(LIVE_CHATS, 50, () => startChat(gateway.url))).map((chat) => chat.id);
  const pollRequests: Request[] = [
    {
      method: 'POST',
      headers: FORM,
      setupRequest: (req, context) => {
        (context as ChatContext).id = live[Math.floor(Math.random() * live.length)];
        return {
          ...req,
          path: `/genesys/1/service/${chatOf(context)}/ixn/chat/send`,
          body: 'message=Hello%2C%20is%20anyone%20there%3F',
        };
      },
    },
    {
      method: 'POST',
      setupRequest: (req, context) => ({ ...req, path: `/genesys/1/service/${chatOf(context)}/ixn/chat/refresh` }),
    },
  ];
  const poll = await load(`send + refresh, ${LIVE_CHATS} live chats`, { url: gateway.url, requests: pollRequests }, gateway);

  printTable(bare, [startLeave, starts, poll], process.env.BENCH_STORE_URL ?? 'SQLite file');
  console.log(
    `chat starts/s: ${(starts.requestsPerSec / 2).toFixed(0)} (queue growing), ${(startLeave.requestsPerSec / 3).toFixed(0)} (queue kept short)`,
  );
  const target = (row: Figures): string => (row.requestsPerSec >= bare.requestsPerSec / 2 && row.p99 < 20 ? 'met' : 'MISSED');
  console.log(`target (>= 0.5 x bare Koa, p99 < 20 ms): chat start ${target(starts)}, send+refresh ${target(poll)}`);
} finally {
  await gateway.close();
}
