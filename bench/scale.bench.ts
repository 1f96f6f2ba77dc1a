// Opt-in (`npm run bench -- scale`, minutes): the gateway at N, 4×N and 16×N live chats on the SQLite
// store (or BENCH_STORE_URL), as a contact center holds them: one in ten waiting in the queue, the rest
// accepted by agents (BENCH_SCALE_AGENTS of them, 1,000 by default), and one in fifty of the customers on
// CometD (long-polling, faye's Node client, a chat with notify_by=comet each), all started through the
// customer and agent APIs in batches. At each size: the idle gateway's CPU per second, its RSS (and RSS per
// chat added since the first size), the store's disk use (database file and write-ahead log), and then
// send+refresh under load (16 connections over every live chat, pushes going to the CometD customers whose
// chats are picked) with its p99 and CPU per request. The expiry sweep reads only the sessions due and
// counts set sizes, so idle CPU and CPU per request must stay flat (within 1.2×) as the chats grow. The
// idle windows fall between full scans of the store (SWEEP_SCAN_INTERVAL_MS, set to 10 min here), whose
// cost does grow with the chats: it is not in these rows.
// BENCH_SCALE_CHATS sets N (default 1,000; 6,250 gives 100,000 at 16×: 10,000 waiting, 2,000 on CometD);
// BENCH_SCALE_COMET_EVERY the share on CometD (one in 50 by default; 0 for none). The CometD customers'
// long-polls come back every 30 s each: their renewals are counted in the idle window, and are work the
// clients ask for, not the gateway's own idling (compare a run with BENCH_SCALE_COMET_EVERY=0).

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import faye, { type Client as FayeClient, type ClientExtension } from 'faye';
import { FORM, inBatches, sendAndRefresh, startChat, type ChatContext, type StartedChat } from './lib/chats.ts';
import { processCpuSeconds, processRssBytes } from './lib/cpu.ts';
import { startBenchGateway } from './lib/gateway.ts';
import { load } from './lib/load.ts';

const BASE = Number(process.env.BENCH_SCALE_CHATS ?? 1000);
const COUNTS = [BASE, 4 * BASE, 16 * BASE];
const AGENTS = Number(process.env.BENCH_SCALE_AGENTS ?? 1000);
/** Chat i waits in the queue when i % WAITING_EVERY is 0, and its customer is on CometD when i % COMET_EVERY is 1. */
const WAITING_EVERY = 10;
const COMET_EVERY = Number(process.env.BENCH_SCALE_COMET_EVERY ?? 50);
const agentToken = (a: number): string => `bench-agent-token-${a}`;
const agents = Array.from({ length: AGENTS }, (_, a) => ({
  id: `agent-${a}`,
  nickname: `Agent ${a}`,
  token: `sha256:${createHash('sha256').update(agentToken(a)).digest('hex')}`,
}));
/** Idle measurement window: several sweeps at the default SWEEP_INTERVAL_MS of 5 s. */
const WINDOW_MS = 30_000;

const gateway = await startBenchGateway({
  ...(process.env.BENCH_STORE_URL ? { storeUrl: process.env.BENCH_STORE_URL } : {}),
  endpoint: { open: true, agents },
  // One address starts every chat here: its caps are off.
  env: {
    RATE_LIMIT_IP_PER_SEC: '0',
    RATE_LIMIT_SESSION_PER_SEC: '0',
    MAX_SESSIONS_PER_ADDRESS: '0',
    MAX_WAITING_PER_ADDRESS: '0',
    SWEEP_SCAN_INTERVAL_MS: '600000',
    // Longer than the load process's own keep-alive (fetch keeps idle sockets 4 s): on a busy machine a
    // request sent on a socket the gateway was closing at the same moment would fail the set-up.
    KEEP_ALIVE_TIMEOUT_MS: '65000',
  },
});
const pid = gateway.process.pid!;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const rssBytes = (): number => processRssBytes(pid) ?? NaN;
/** The SQLite file the bench gateway was given (lib/gateway.ts), unless the store is elsewhere. */
const storeFile = process.env.BENCH_STORE_URL ? undefined : storeFileOf(pid);
const size = (file: string): number => (fs.existsSync(file) ? fs.statSync(file).size : 0);
const cometClients: FayeClient[] = [];
/** Service id → gms_user of the comet chats: their customer's calls must name them. */
const cometUsers = new Map<string, string>();
let pushes = 0;
/** /meta/connect messages the CometD customers sent: their long-polls, renewed as each one is answered. */
let polls = 0;
const countPolls: ClientExtension = {
  outgoing(message, callback) {
    if (message.channel === '/meta/connect') polls++;
    callback(message);
  },
};

/** Chat number `i`, as the mix has it: on CometD or polling, then waiting or accepted by an agent. */
async function startMixedChat(i: number): Promise<StartedChat> {
  let chat: StartedChat;
  if (COMET_EVERY > 0 && i % COMET_EVERY === 1) {
    const gmsUser = `bench-customer-${i}`;
    const client = new faye.Client(`${gateway.url}/genesys/cometd`);
    client.disable('websocket');
    client.setHeader('gms_user', gmsUser);
    client.addExtension(countPolls);
    cometClients.push(client);
    await client.subscribe('/_genesys', () => void pushes++);
    chat = await startChat(gateway.url, 'notify_by=comet&firstName=Ann', { gms_user: gmsUser });
    cometUsers.set(chat.id, gmsUser);
  } else {
    chat = await startChat(gateway.url);
  }
  if (i % WAITING_EVERY !== 0) {
    const res = await fetch(`${gateway.url}/agent/v1/chats/${chat.chatSessionId}/accept`, {
      method: 'POST',
      headers: { ...FORM, authorization: `Bearer ${agentToken(i % AGENTS)}` },
    });
    if (res.status !== 200) throw new Error(`could not accept a chat: ${res.status} ${await res.text()}`);
  }
  return chat;
}

try {
  await sleep(5000);
  const emptyRss = rssBytes();
  const rows: {
    chats: number;
    setupS: number;
    cpuMsPerS: number;
    /** CometD long-polls renewed per second in the idle window. */
    pollsPerS: number;
    rssMb: number;
    /** RSS grown per chat added since the first size (undefined for the first). */
    rssPerChatB?: number;
    dbMb?: number;
    walMb?: number;
    p50: number;
    p99: number;
    cpuUs?: number;
    rps: number;
    failed: number;
    cometd: number;
    pushes: number;
  }[] = [];
  const live: string[] = [];
  for (const count of COUNTS) {
    const setup = Date.now();
    const from = live.length;
    live.push(...(await inBatches(count - from, 100, (k) => startMixedChat(from + k))).map((chat) => chat.id));
    const setupS = (Date.now() - setup) / 1000;
    console.log(`${count} live chats started (${setupS.toFixed(1)} s), ${cometClients.length} customers on CometD`);
    // Let the writes of the set-up settle (group commits, WAL checkpoint, compiled code) before measuring idleness.
    await sleep(10_000);
    const before = processCpuSeconds(pid);
    const pollsBefore = polls;
    const at = Date.now();
    await sleep(WINDOW_MS);
    const after = processCpuSeconds(pid);
    const pollsPerS = (polls - pollsBefore) / ((Date.now() - at) / 1000);
    if (before === undefined || after === undefined) throw new Error('CPU time is read from /proc (Linux only)');
    const rss = rssBytes();
    const disk = storeFile ? { dbMb: size(storeFile) / 1e6, walMb: size(`${storeFile}-wal`) / 1e6 } : {};
    const pushesBefore = pushes;
    const pick = (context: object): string => ((context as ChatContext).id = live[Math.floor(Math.random() * live.length)]!);
    const busy = await load(
      `send + refresh, ${count} live chats`,
      {
        url: gateway.url,
        requests: sendAndRefresh(pick, (id): Record<string, string> => {
          const gmsUser = cometUsers.get(id);
          return gmsUser === undefined ? {} : { gms_user: gmsUser };
        }),
      },
      gateway,
    );
    rows.push({
      chats: count,
      setupS,
      cpuMsPerS: ((after - before) * 1000) / ((Date.now() - at) / 1000),
      pollsPerS,
      rssMb: rss / 1e6,
      ...(rows.length > 0 ? { rssPerChatB: (rss - rows[0].rssMb * 1e6) / (count - rows[0].chats) } : {}),
      ...disk,
      p50: busy.p50,
      p99: busy.p99,
      ...(busy.serverCpuUs !== undefined ? { cpuUs: busy.serverCpuUs } : {}),
      rps: busy.requestsPerSec,
      failed: busy.failed,
      cometd: cometClients.length,
      pushes: pushes - pushesBefore,
    });
  }
  console.log(
    `\n${process.env.BENCH_STORE_URL ? 'BENCH_STORE_URL' : 'SQLite file'}, idle windows of ${WINDOW_MS / 1000} s (SWEEP_INTERVAL_MS 5000), ` +
      `then send+refresh over every live chat; empty gateway RSS ${(emptyRss / 1e6).toFixed(0)} MB; load ${(await import('node:os')).loadavg()[0].toFixed(2)}`,
  );
  console.log(
    '| live chats | waiting | on CometD | set-up s | idle CPU ms/s | CometD polls/s meanwhile | RSS MB | RSS per chat added B | db MB | WAL MB | send+refresh req/s | p50/p99 ms | CPU µs/req | non-2xx | pushes during load |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  const mb = (v: number | undefined): string => (v === undefined ? '–' : v.toFixed(1));
  for (const r of rows)
    console.log(
      `| ${r.chats} | ${Math.ceil(r.chats / WAITING_EVERY)} | ${r.cometd} | ${r.setupS.toFixed(0)} | ${r.cpuMsPerS.toFixed(1)} | ${r.pollsPerS.toFixed(1)} | ${r.rssMb.toFixed(0)} | ${r.rssPerChatB?.toFixed(0) ?? '–'} | ${mb(r.dbMb)} | ${mb(r.walMb)} | ${r.rps.toFixed(0)} | ${r.p50}/${r.p99} | ${r.cpuUs?.toFixed(0) ?? '–'} | ${r.failed} | ${r.pushes} |`,
    );
  const [small, , large] = rows;
  if (small && large) {
    console.log(
      `with ${large.chats} chats against ${small.chats}: idle CPU ${(large.cpuMsPerS / small.cpuMsPerS).toFixed(2)}×, ` +
        `send+refresh CPU per request ${((large.cpuUs ?? NaN) / (small.cpuUs ?? NaN)).toFixed(2)}× (targets ≤ 1.2; idle CPU < 20 ms/s; p99 < 20 ms)`,
    );
  }
} finally {
  for (const client of cometClients) client.disconnect();
  await gateway.close();
}
// faye's clients keep timers of their own after they disconnect.
process.exit(0);

/** The gateway's STORE_URL file, read from its environment (/proc, Linux). */
function storeFileOf(processId: number): string | undefined {
  const env = fs.readFileSync(`/proc/${processId}/environ`, 'utf8').split('\0');
  const url = env.find((e) => e.startsWith('STORE_URL='))?.slice('STORE_URL='.length);
  return url?.startsWith('sqlite://') ? path.resolve(url.slice('sqlite://'.length)) : undefined;
}
