// CPU time per request, the figure that shared CPUs disturb least: requests per second swing with
// whatever else the machine runs, but the CPU a server spends on one request changes far less; and a
// process's resident memory. Read from /proc (Linux); elsewhere the figures are simply absent.

import fs from 'node:fs';

/** User + system CPU seconds a process has used so far, all its threads together (undefined off Linux). */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** A process's resident memory now, in bytes (undefined off Linux). */
export function processRssBytes(pid: number): number | undefined {
  try {
    return Number(fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE_BYTES;
  } catch {
    return undefined;
  }
}

/** statm counts pages of 4 kB on the x86-64 and arm64 Linux that Node runs on. */
const PAGE_BYTES = 4096;

/** Linux reports CPU time in clock ticks of 1/100 s on every platform Node runs on. */
const CLOCK_TICKS = 100;
