// Start to "listening": how long `npm start`'s process (node dist/main.js, compiled by tsc) takes from
// spawn to its "gateway listening" log line, against the same sources run through tsx (`npm run dev`,
// the tests), each on a fresh SQLite file; then node dist/main.js with 1,000 service files, and how long
// a change of one of those 1,000 files takes to serve (from the write to the first chat created with
// it, RELOAD_SETTLE_MS included). STARTUP_RUNS sets the runs of each (alternated, so that a busy moment
// of the machine falls on all).

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.STARTUP_RUNS ?? 7);

/** Service files in the folder of the "many services" rows. */
const MANY = 1000;

/**
 * Milliseconds from spawn to the line that says the gateway listens; the process is then stopped, after
 * `whileUp` (given the gateway's URL) when there is one.
 */
function timeToListening(
  args: string[],
  env: Record<string, string> = {},
  whileUp?: (url: string) => Promise<void>,
): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gms-startup-'));
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      STORE_URL: `sqlite://${path.join(dir, 's.sqlite')}`,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let listening = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (listening) return;
      out += chunk;
      const line = out.split('\n').find((l) => l.includes('gateway listening'));
      if (!line) return;
      listening = true;
      const ms = performance.now() - started;
      child.once('exit', () => {
        fs.rmSync(dir, { recursive: true, force: true });
        resolve(ms);
      });
      const url = (JSON.parse(line) as { url: string }).url;
      void (whileUp ? whileUp(url) : Promise.resolve()).then(
        () => child.kill('SIGTERM'),
        (err: unknown) => {
          child.kill('SIGTERM');
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
    child.once('exit', (code) => {
      if (!listening) reject(new Error(`${args.join(' ')} exited with ${code} before listening`));
    });
  });
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

if (spawnSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), '--if-stale'], { stdio: 'inherit' }).status !== 0)
  process.exit(1);
/** A folder of MANY service files (svc-0000 … svc-0999) and the one endpoint they use. */
function manyServices(): { env: Record<string, string>; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gms-startup-many-'));
  const services = path.join(dir, 'services.d');
  const endpoints = path.join(dir, 'endpoints.d');
  fs.mkdirSync(services);
  fs.mkdirSync(endpoints);
  fs.writeFileSync(path.join(endpoints, 'gms_builtin.json'), '{}');
  for (let i = 0; i < MANY; i++)
    fs.writeFileSync(path.join(services, `${serviceName(i)}.json`), JSON.stringify({ ttl: 600 + i, maxMessageLength: 2000 }));
  return { env: { SERVICES_DIR: services, ENDPOINTS_DIR: endpoints }, dir };
}
const serviceName = (i: number): string => `svc-${String(i).padStart(4, '0')}`;

/** Milliseconds from rewriting one of the MANY files to the first chat created with its new ttl. */
async function reloadOne(url: string, servicesDir: string, ttl: number): Promise<number> {
  const name = serviceName(MANY / 2);
  const ttlNow = async (): Promise<number> => {
    const reply = await fetch(`${url}/genesys/1/service/${name}?_gateway_extras=true`, { method: 'POST' });
    return ((await reply.json()) as { _ttl: number })._ttl;
  };
  if ((await ttlNow()) === ttl) throw new Error('the new ttl is already served');
  const written = performance.now();
  fs.writeFileSync(path.join(servicesDir, `${name}.json`), JSON.stringify({ ttl, maxMessageLength: 2000 }));
  while ((await ttlNow()) !== ttl) {
    if (performance.now() - written > 30_000) throw new Error(`${name}'s change was not served within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return performance.now() - written;
}

const rows = [
  { name: 'node dist/main.js (npm start)', args: ['dist/main.js'], ms: [] as number[] },
  { name: 'tsx src/main.ts (npm run dev)', args: ['--import', 'tsx', 'src/main.ts'], ms: [] as number[] },
];
const many = { name: `node dist/main.js, ${MANY} service files`, ms: [] as number[] };
const reload = { name: `reload of one service file among ${MANY} (write → served)`, ms: [] as number[] };
for (let run = 0; run < RUNS; run++) {
  for (const row of rows) row.ms.push(await timeToListening(row.args));
  const folder = manyServices();
  many.ms.push(
    await timeToListening(['dist/main.js'], folder.env, async (url) => {
      reload.ms.push(await reloadOne(url, folder.env.SERVICES_DIR, 7200 + run));
    }),
  );
  fs.rmSync(folder.dir, { recursive: true, force: true });
}

console.log(
  `start to "listening", ${RUNS} runs each, SQLite store, on ${os.cpus().length} CPU(s), load ${os.loadavg()[0].toFixed(2)}`,
);
console.log('| process | median ms | min ms | max ms |');
console.log('|---|---|---|---|');
for (const row of [...rows, many, reload])
  console.log(
    `| ${row.name} | ${median(row.ms).toFixed(0)} | ${Math.min(...row.ms).toFixed(0)} | ${Math.max(...row.ms).toFixed(0)} |`,
  );
console.log(`dist / tsx: ${(median(rows[0].ms) / median(rows[1].ms)).toFixed(2)}`);
