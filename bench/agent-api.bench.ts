// The agent API on the embedded SQLite store, against a bare Koa "hello" server measured in the same
// run: listing a waiting queue of 100 chats, and agent messages (bearer auth + send) into 200 accepted
// chats, with p50/p99 latency. BENCH_SECONDS and BENCH_CONNECTIONS as in lib/load.ts.

import type { Request } from 'autocannon';
import { hashToken } from '../src/endpoints/token-hash.ts';
import { inBatches, startChat } from './lib/chats.ts';
import { startBenchGateway, startHelloKoa } from './lib/gateway.ts';
import { load, printTable } from './lib/load.ts';

const WAITING = 100;
const ACCEPTED = 200;
const TOKEN = 'bench-agent-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };

const koa = await startHelloKoa();
const bare = await load('bare Koa "hello" (GET)', { url: koa.url }, koa);
await koa.stop();

const gateway = await startBenchGateway({ endpoint: { agents: [{ id: 'bench', nickname: 'Bench', token: hashToken(TOKEN) }] } });
try {
  const accepted = (await inBatches(ACCEPTED, 25, () => startChat(gateway.url))).map((chat) => chat.chatSessionId);
  for (const id of accepted) {
    const reply = await fetch(`${gateway.url}/agent/v1/chats/${id}/accept`, { method: 'POST', headers: AUTH });
    if (reply.status !== 200) throw new Error(`accept failed: ${reply.status}`);
  }
  await inBatches(WAITING, 25, () => startChat(gateway.url));

  const queue = await load(
    `GET waiting queue (${WAITING} chats)`,
    { url: `${gateway.url}/agent/v1/chats?state=waiting`, headers: AUTH },
    gateway,
  );
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
  const send = await load(`agent send, ${ACCEPTED} accepted chats`, { url: gateway.url, requests: sendRequests }, gateway);

  printTable(bare, [queue, send], 'SQLite file');
} finally {
  await gateway.close();
}
