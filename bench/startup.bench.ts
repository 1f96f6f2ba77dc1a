// Start to "listening": how long `npm start`'s process (node dist/main.js, compiled by tsc) takes from
// spawn to its "gateway listening" log line, against the same sources run through tsx (`npm run dev`,
// the tests), each on a fresh SQLite file. STARTUP_RUNS sets the runs of each (alternated, so that a busy
// moment of the machine falls on both).

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.STARTUP_RUNS ?? 7);

/** Milliseconds from spawn to the line that says the gateway listens; the process is then stopped. */
function timeToListening(args: string[]): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gms-startup-'));
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', STORE_URL: `sqlite://${path.join(dir, 's.sqlite')}` },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let listening = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (listening || !out.includes('gateway listening')) return;
      listening = true;
      const ms = performance.now() - started;
      child.once('exit', () => {
        fs.rmSync(dir, { recursive: true, force: true });
        resolve(ms);
      });
      child.kill('SIGTERM');
    });
    child.once('exit', (code) => {
      if (!listening) reject(new Error(`${args.join(' ')} exited with ${code} before listening`));
    });
  });
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

if (spawnSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), '--if-stale'], { stdio: 'inherit' }).status !== 0)
  process.exit(1);
const rows = [
  { name: 'node dist/main.js (npm start)', args: ['dist/main.js'], ms: [] as number[] },
  { name: 'tsx src/main.ts (npm run dev)', args: ['--import', 'tsx', 'src/main.ts'], ms: [] as number[] },
];
for (let run = 0; run < RUNS; run++) for (const row of rows) row.ms.push(await timeToListening(row.args));

console.log(
  `start to "listening", ${RUNS} runs each, SQLite store, on ${os.cpus().length} CPU(s), load ${os.loadavg()[0].toFixed(2)}`,
);
console.log('| process | median ms | min ms | max ms |');
console.log('|---|---|---|---|');
for (const row of rows)
  console.log(
    `| ${row.name} | ${median(row.ms).toFixed(0)} | ${Math.min(...row.ms).toFixed(0)} | ${Math.max(...row.ms).toFixed(0)} |`,
  );
console.log(`dist / tsx: ${(median(rows[0].ms) / median(rows[1].ms)).toFixed(2)}`);
