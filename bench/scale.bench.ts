// Opt-in (`npm run bench -- scale`, about two minutes): the idle gateway's CPU per second with N and
// 16×N live chats (all waiting, started through the customer API in batches), on the SQLite store (or
// BENCH_STORE_URL). The expiry sweep reads only the sessions due and counts set sizes, so the figure
// must stay flat (within 1.2×) as the chats grow. The windows are measured between full scans of the
// store (SWEEP_SCAN_INTERVAL_MS, set to 10 min here so that none falls in a window of this run), whose
// cost does grow with the chats: it is not in these rows.

import fs from 'node:fs';
import { inBatches, startChat } from './lib/chats.ts';
import { processCpuSeconds } from './lib/cpu.ts';
import { startBenchGateway } from './lib/gateway.ts';

const BASE = Number(process.env.BENCH_SCALE_CHATS ?? 1000);
const COUNTS = [BASE, 16 * BASE];
/** Idle measurement window: several sweeps at the default SWEEP_INTERVAL_MS of 5 s. */
const WINDOW_MS = 30_000;

const gateway = await startBenchGateway({
  ...(process.env.BENCH_STORE_URL ? { storeUrl: process.env.BENCH_STORE_URL } : {}),
  // One address starts every chat here: its caps are off.
  env: {
    RATE_LIMIT_IP_PER_SEC: '0',
    MAX_SESSIONS_PER_ADDRESS: '0',
    MAX_WAITING_PER_ADDRESS: '0',
    SWEEP_SCAN_INTERVAL_MS: '600000',
  },
});
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
try {
  const rows: { chats: number; cpuMsPerS: number; rssMb: number }[] = [];
  let live = 0;
  for (const count of COUNTS) {
    const setup = Date.now();
    await inBatches(count - live, 100, () => startChat(gateway.url));
    live = count;
    console.log(`${count} live chats started (${((Date.now() - setup) / 1000).toFixed(1)} s)`);
    // Let the writes of the set-up settle (group commits, WAL checkpoint, compiled code) before measuring idleness.
    await sleep(10_000);
    const before = processCpuSeconds(gateway.process.pid!);
    const at = Date.now();
    await sleep(WINDOW_MS);
    const after = processCpuSeconds(gateway.process.pid!);
    if (before === undefined || after === undefined) throw new Error('CPU time is read from /proc (Linux only)');
    const rss = Number(fs.readFileSync(`/proc/${gateway.process.pid}/statm`, 'utf8').split(' ')[1]) * 4096;
    rows.push({ chats: count, cpuMsPerS: ((after - before) * 1000) / ((Date.now() - at) / 1000), rssMb: rss / 1e6 });
  }
  console.log(
    `\nidle gateway, ${process.env.BENCH_STORE_URL ? 'BENCH_STORE_URL' : 'SQLite file'}, ${WINDOW_MS / 1000} s windows, SWEEP_INTERVAL_MS 5000`,
  );
  console.log('live chats   CPU ms/s   RSS MB');
  for (const row of rows)
    console.log(
      `${String(row.chats).padStart(10)}   ${row.cpuMsPerS.toFixed(2).padStart(8)}   ${row.rssMb.toFixed(0).padStart(6)}`,
    );
  const [small, large] = rows;
  if (small && large) {
    console.log(
      `idle CPU with ${large.chats} chats: ${(large.cpuMsPerS / small.cpuMsPerS).toFixed(2)} x that with ${small.chats} (target ≤ 1.2)`,
    );
  }
} finally {
  await gateway.close();
}
