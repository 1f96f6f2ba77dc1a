// Throughput under autocannon for the request-rate benchmarks: one measurement (after a warm-up) and
// the table every such benchmark prints, each row as a ratio against bare Koa measured in the same run.
// BENCH_SECONDS (default 10) sets each measurement's length, BENCH_CONNECTIONS (default 16) the load.

import os from 'node:os';
import autocannon, { type Options } from 'autocannon';

export const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);

export interface Figures {
  name: string;
  requestsPerSec: number;
  p50: number;
  p99: number;
  failed: number;
}

export async function load(name: string, options: Options): Promise<Figures> {
  // A short warm-up first, so that every server is measured with its code compiled.
  await autocannon({ ...options, duration: 2 });
  const result = await autocannon({ connections: CONNECTIONS, duration: SECONDS, ...options });
  return {
    name,
    requestsPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failed: result.non2xx + result.errors + result.timeouts,
  };
}

/** Prints `rows` as a Markdown table, each with its ratio to `bare`, under a line saying how they were run. */
export function printTable(bare: Figures, rows: Figures[], store: string): void {
  console.log(`${CONNECTIONS} connections, ${SECONDS} s each, on ${os.cpus().length} CPU(s), store: ${store}`);
  console.log('| load | req/s | × bare Koa | p50 ms | p99 ms | non-2xx/errors |');
  console.log('|---|---|---|---|---|---|');
  for (const row of [bare, ...rows]) {
    const ratio = (row.requestsPerSec / bare.requestsPerSec).toFixed(2);
    console.log(`| ${row.name} | ${row.requestsPerSec.toFixed(0)} | ${ratio} | ${row.p50} | ${row.p99} | ${row.failed} |`);
  }
}
