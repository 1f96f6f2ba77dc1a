// CometD delivery latency (spec §4): 2,000 customers connected at once on long-polling (faye's Node
// client), each in its own chat with notify_by=comet; messages are sent through the Chat API at a steady
// rate and timed from the moment the send is issued until the push arrives on the customer's /_genesys.
// The yardstick is the round trip of a bare Koa "hello" server at the same request rate, in the same run.
// BENCH_CUSTOMERS (default 2000), BENCH_SECONDS (default 10) and BENCH_EVENTS_PER_SEC (default 200).

import os from 'node:os';
import faye, { type Client as FayeClient } from 'faye';
import type { ChatPush } from '../src/push/customer-push.ts';
import { FORM, inBatches, startChat } from './lib/chats.ts';
import { processRssBytes } from './lib/cpu.ts';
import { startBenchGateway, startHelloKoa } from './lib/gateway.ts';

const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 2000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const RATE = Number(process.env.BENCH_EVENTS_PER_SEC ?? 200);
const TARGET_P99_MS = 50;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Fires `fire(i)` for i = 0..count-1 at a steady rate, without waiting for each to finish. */
async function steady(count: number, perSecond: number, fire: (i: number) => Promise<void>): Promise<void> {
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(fire(i));
  }
  await Promise.all(pending);
}

async function main(): Promise<void> {
  const events = RATE * SECONDS;

  const koa = await startHelloKoa();
  const koaLatency: number[] = [];
  // A warm-up second first, not counted, so that both servers are measured with their code compiled.
  for (const measured of [false, true]) {
    await steady(measured ? events : RATE, RATE, async () => {
      const t = performance.now();
      await (await fetch(koa.url)).text();
      if (measured) koaLatency.push(performance.now() - t);
    });
  }
  await koa.stop();

  const gateway = await startBenchGateway();
  const clients: FayeClient[] = [];
  try {
    const sentAt = new Map<string, number>();
    const latency: number[] = [];
    const received = new Set<string>();
    let duplicates = 0;
    const rssBefore = processRssBytes(gateway.process.pid!);
    const setupStart = performance.now();
    const customers = await inBatches(CUSTOMERS, 100, async (i) => {
      const gmsUser = `bench-${i}`;
      const client = new faye.Client(`${gateway.url}/genesys/cometd`);
      client.disable('websocket');
      client.setHeader('gms_user', gmsUser);
      clients.push(client);
      await new Promise<void>((resolve, reject) => {
        client
          .subscribe('/_genesys', (data) => {
            const now = performance.now();
            for (const [, , text] of (data as ChatPush).message.transcriptToShow) {
              const t = sentAt.get(text);
              if (t === undefined) continue;
              if (received.has(text)) duplicates++;
              else latency.push(now - t);
              received.add(text);
            }
          })
          .then(
            () => resolve(),
            (err) => reject(new Error(String(err?.message))),
          );
      });
      const headers = { ...FORM, gms_user: gmsUser };
      const { id } = await startChat(gateway.url, 'notify_by=comet&firstName=Ann', headers);
      return { id, headers };
    });
    const setupSeconds = (performance.now() - setupStart) / 1000;
    const rssAfter = processRssBytes(gateway.process.pid!);

    const sendLatency: number[] = [];
    for (const measured of [false, true]) {
      await steady(measured ? events : RATE, RATE, async (i) => {
        const customer = customers[i % customers.length];
        const text = measured ? `m${i}` : `warm-up ${i}`;
        const t = performance.now();
        if (measured) sentAt.set(text, t);
        const res = await fetch(`${gateway.url}/genesys/1/service/${customer.id}/ixn/chat/send`, {
          method: 'POST',
          headers: customer.headers,
          body: `message=${text}`,
        });
        await res.text();
        if (measured) sendLatency.push(performance.now() - t);
        if (res.status !== 200) throw new Error(`send failed: ${res.status}`);
      });
    }
    const deadline = Date.now() + 10_000;
    while (latency.length < events && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));

    const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
    const push = sorted(latency);
    const koaSorted = sorted(koaLatency);
    const send = sorted(sendLatency);
    const f = (x: number): string => x.toFixed(1);
    console.log(
      `${CUSTOMERS} CometD customers on long-polling (faye client), ${events} messages at ${RATE}/s, on ${os.cpus().length} CPU(s), store: SQLite file`,
    );
    console.log(`setup (handshake + subscribe + chat start for every customer): ${setupSeconds.toFixed(1)} s`);
    if (rssBefore !== undefined && rssAfter !== undefined) {
      console.log(
        `gateway RSS ${(rssBefore / 1e6).toFixed(0)} MB before, ${(rssAfter / 1e6).toFixed(0)} MB with every customer connected: ` +
          `${((rssAfter - rssBefore) / CUSTOMERS / 1e3).toFixed(1)} kB per customer (a CometD client and its chat)`,
      );
    }
    console.log('| measure | p50 ms | p99 ms | max ms | p50 × bare Koa | p99 × bare Koa |');
    console.log('|---|---|---|---|---|---|');
    const row = (name: string, xs: number[]): void =>
      console.log(
        `| ${name} | ${f(percentile(xs, 50))} | ${f(percentile(xs, 99))} | ${f(xs[xs.length - 1] ?? NaN)} | ${(percentile(xs, 50) / percentile(koaSorted, 50)).toFixed(2)} | ${(percentile(xs, 99) / percentile(koaSorted, 99)).toFixed(2)} |`,
      );
    row('bare Koa "hello" round trip', koaSorted);
    row('Chat API send (HTTP reply)', send);
    row('send issued → push received', push);
    console.log(`delivered ${push.length}/${events}, duplicates ${duplicates}`);
    const met = push.length === events && duplicates === 0 && percentile(push, 99) < TARGET_P99_MS;
    console.log(`target (every message once, p99 < ${TARGET_P99_MS} ms): ${met ? 'met' : 'MISSED'}`);
  } finally {
    for (const client of clients) client.disconnect();
    await gateway.close();
  }
}

await main();
process.exit(0);
