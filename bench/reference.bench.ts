// The gateway against a reference chat server doing the same durable work in the fewest lines
// (lib/reference-chat.ts), row by row: chat start, a refresh with nothing new, send+refresh over
// LIVE_CHATS live chats; and the gateway's GET /healthz against bare Koa. Each pair is measured
// ROUNDS times, interleaved (reference, gateway, reference, gateway...), since shared CPUs drift;
// the figure to read is the server's CPU per request as a ratio, with the best round of each side.
// BENCH_SECONDS, BENCH_CONNECTIONS as in lib/load.ts; BENCH_ROUNDS (default 2).

import type { Request } from 'autocannon';
import { FORM, chatStartRequests, inBatches, startChat, chatOf, type ChatContext } from './lib/chats.ts';
import { startBenchGateway, startHelloKoa, startReferenceChat, type BenchGateway } from './lib/gateway.ts';
import { load, type Figures } from './lib/load.ts';
import type { Child } from './lib/processes.ts';

const LIVE_CHATS = 1000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);

/** Requests of one row, built for a server (each has its own live chats). */
type Row = { name: string; target: number; requests: (server: Served) => Request[]; path?: string };
interface Served {
  child: Child;
  live: string[];
}

const pick = (live: string[], context: object): string =>
  ((context as ChatContext).id = live[Math.floor(Math.random() * live.length)]!);
const rows: Row[] = [
  {
    name: 'chat start (create + start)',
    target: 1.5,
    requests: () => chatStartRequests,
  },
  {
    name: 'refresh, nothing new',
    target: 1.3,
    requests: ({ live }) => [
      {
        method: 'POST',
        setupRequest: (req, context) => ({ ...req, path: `/genesys/1/service/${pick(live, context)}/ixn/chat/refresh` }),
      },
    ],
  },
  {
    name: `send + refresh, ${LIVE_CHATS} live chats`,
    target: 1.3,
    requests: ({ live }) => [
      {
        method: 'POST',
        headers: FORM,
        setupRequest: (req, context) => ({
          ...req,
          path: `/genesys/1/service/${pick(live, context)}/ixn/chat/send`,
          body: 'message=Hello%2C%20is%20anyone%20there%3F',
        }),
      },
      {
        method: 'POST',
        setupRequest: (req, context) => ({ ...req, path: `/genesys/1/service/${chatOf(context)}/ixn/chat/refresh` }),
      },
    ],
  },
];

async function serve(start: () => Promise<BenchGateway>): Promise<Served & { close(): Promise<void> }> {
  const child = await start();
  const live = (await inBatches(LIVE_CHATS, 50, () => startChat(child.url))).map((chat) => chat.id);
  return { child, live, close: () => child.close() };
}

const best = (runs: Figures[]): Figures =>
  runs.reduce((a, b) => ((a.serverCpuUs ?? Infinity) <= (b.serverCpuUs ?? Infinity) ? a : b));
const results: { row: string; target: number; reference: Figures; gateway: Figures }[] = [];

const koa = await startHelloKoa();
const reference = await serve(startReferenceChat);
const gateway = await serve(() => startBenchGateway({ storeUrl: process.env.BENCH_STORE_URL }));
try {
  const bare: Figures[] = [];
  const healthz: Figures[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    bare.push(await load('bare Koa "hello"', { url: koa.url }, koa));
    healthz.push(await load('gateway GET /healthz', { url: gateway.child.url + '/healthz' }, gateway.child));
  }
  results.push({ row: 'GET /healthz (vs bare Koa)', target: 1.3, reference: best(bare), gateway: best(healthz) });
  for (const row of rows) {
    const runs: { reference: Figures[]; gateway: Figures[] } = { reference: [], gateway: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const [side, served] of [
        ['reference', reference],
        ['gateway', gateway],
      ] as const) {
        runs[side].push(
          await load(`${side}: ${row.name}`, { url: served.child.url, requests: row.requests(served) }, served.child),
        );
      }
    }
    results.push({ row: row.name, target: row.target, reference: best(runs.reference), gateway: best(runs.gateway) });
  }
} finally {
  await koa.stop();
  await reference.close();
  await gateway.close();
}

console.log(`best of ${ROUNDS} interleaved rounds each; CPU is the server's, all threads, per request`);
console.log(
  '| row | reference req/s | gateway req/s | reference CPU µs/req | gateway CPU µs/req | CPU × reference | target | gateway p50/p99 ms | non-2xx/errors (ref/gw) | met |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const { row, target, reference: ref, gateway: gw } of results) {
  const ratio = gw.serverCpuUs !== undefined && ref.serverCpuUs !== undefined ? gw.serverCpuUs / ref.serverCpuUs : NaN;
  const met = ratio <= target && gw.p99 < 20 && gw.failed === 0 && ref.failed === 0 ? 'yes' : 'NO';
  console.log(
    `| ${row} | ${ref.requestsPerSec.toFixed(0)} | ${gw.requestsPerSec.toFixed(0)} | ${ref.serverCpuUs?.toFixed(0) ?? '–'} | ${gw.serverCpuUs?.toFixed(0) ?? '–'} | ${ratio.toFixed(2)} | ≤ ${target} | ${gw.p50}/${gw.p99} | ${ref.failed}/${gw.failed} | ${met} |`,
  );
}
