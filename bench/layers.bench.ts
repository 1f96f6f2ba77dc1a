// Where the gap to bare Koa is: each layer of a customer's poll measured in one run, as ratios to a bare
// Koa "hello": Koa + @koa/router, the gateway's GET /healthz (every middleware, no store), a refresh
// with nothing new (store read, no write) and send+refresh (a store write each send), on the SQLite
// store with LIVE_CHATS live chats. BENCH_SECONDS and BENCH_CONNECTIONS as in lib/load.ts.

import type { Request } from 'autocannon';
import { inBatches, sendAndRefresh, startChat, type ChatContext } from './lib/chats.ts';
import { startBenchGateway, startHelloKoa, startHelloRouter } from './lib/gateway.ts';
import { load, printTable } from './lib/load.ts';

const LIVE_CHATS = 1000;

const koa = await startHelloKoa();
const bare = await load('bare Koa "hello" (GET)', { url: koa.url }, koa);
await koa.stop();

const routed = await startHelloRouter();
const router = await load('Koa + @koa/router "hello" (GET)', { url: routed.url }, routed);
await routed.stop();

const gateway = await startBenchGateway({ storeUrl: process.env.BENCH_STORE_URL });
try {
  const healthz = await load('gateway GET /healthz', { url: gateway.url + '/healthz' }, gateway);

  const live = (await inBatches(LIVE_CHATS, 50, () => startChat(gateway.url))).map((chat) => chat.id);
  const pick = (context: object): string => ((context as ChatContext).id = live[Math.floor(Math.random() * live.length)]!);
  // Every chat's first refresh records the position it has read (a write); the warm-up covers that, so
  // the measured refreshes find nothing new and write nothing.
  const refresh: Request = {
    method: 'POST',
    setupRequest: (req, context) => ({ ...req, path: `/genesys/1/service/${pick(context)}/ixn/chat/refresh` }),
  };
  const idle = await load('refresh, nothing new', { url: gateway.url, requests: [refresh] }, gateway);

  const poll = await load(
    `send + refresh, ${LIVE_CHATS} live chats`,
    {
      url: gateway.url,
      requests: sendAndRefresh(pick),
    },
    gateway,
  );
  printTable(bare, [router, healthz, idle, poll], process.env.BENCH_STORE_URL ?? 'SQLite file');
} finally {
  await gateway.close();
}
