// Throughput under autocannon for the request-rate benchmarks: one measurement (after a warm-up) and
// the table every such benchmark prints, each row as a ratio against bare Koa measured in the same run,
// by requests per second and by the server's CPU per request.
// BENCH_SECONDS (default 10) sets each measurement's length, BENCH_CONNECTIONS (default 16) the load.

import os from 'node:os';
import autocannon, { type Options } from 'autocannon';
import { processCpuSeconds } from './cpu.ts';

export const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);

export interface Figures {
  name: string;
  requestsPerSec: number;
  p50: number;
  p99: number;
  failed: number;
  /** CPU the server process spent per request (µs, all its threads), when it could be read. */
  serverCpuUs?: number;
  /** CPU this load generator spent per request (µs): it shares the machine's CPUs with the server. */
  loadCpuUs: number;
}

/** Measures `options` against a server; give the server's process to have its CPU per request too. */
export async function load(name: string, options: Options, server?: { process: { pid?: number } }): Promise<Figures> {
  // A short warm-up first, so that every server is measured with its code compiled.
  await autocannon({ ...options, duration: 2 });
  const pid = server?.process.pid;
  const serverBefore = pid === undefined ? undefined : processCpuSeconds(pid);
  const loadBefore = process.cpuUsage();
  const result = await autocannon({ connections: CONNECTIONS, duration: SECONDS, ...options });
  const loadCpu = process.cpuUsage(loadBefore);
  const serverAfter = pid === undefined ? undefined : processCpuSeconds(pid);
  const requests = Math.max(1, result.requests.total);
  return {
    name,
    requestsPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failed: result.non2xx + result.errors + result.timeouts,
    ...(serverBefore !== undefined && serverAfter !== undefined
      ? { serverCpuUs: ((serverAfter - serverBefore) * 1e6) / requests }
      : {}),
    loadCpuUs: (loadCpu.user + loadCpu.system) / requests,
  };
}

/**
 * Prints `rows` as a Markdown table, each with its ratio to `bare`, under a line saying how they were run
 * (`length`: how long each row ran, when not SECONDS).
 */
export function printTable(bare: Figures, rows: Figures[], store: string, length = `${SECONDS} s each`): void {
  console.log(`${CONNECTIONS} connections, ${length}, on ${os.cpus().length} CPU(s), store: ${store}`);
  console.log(
    '| load | req/s | × bare Koa | p50 ms | p99 ms | non-2xx/errors | server CPU µs/req | × bare Koa | load generator CPU µs/req |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const row of [bare, ...rows]) {
    const ratio = (row.requestsPerSec / bare.requestsPerSec).toFixed(2);
    const cpu = row.serverCpuUs === undefined ? '–' : row.serverCpuUs.toFixed(0);
    const cpuRatio =
      row.serverCpuUs === undefined || bare.serverCpuUs === undefined ? '–' : (row.serverCpuUs / bare.serverCpuUs).toFixed(2);
    console.log(
      `| ${row.name} | ${row.requestsPerSec.toFixed(0)} | ${ratio} | ${row.p50} | ${row.p99} | ${row.failed} | ${cpu} | ${cpuRatio} | ${row.loadCpuUs.toFixed(0)} |`,
    );
  }
}
