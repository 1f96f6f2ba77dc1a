// A gateway under benchmark: a temporary folder with one service (request-chat) and the gms_builtin
// endpoint, the gateway started on it as a child process on the SQLite store (or BENCH_STORE_URL when
// a bench allows it), and everything removed at the end. The gateway runs as it ships (dist/, built
// first when stale, as `npm start` does), not through tsx, whose transform adds work to every closure
// created. The bare Koa yardstick is started the same way.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild, type Child } from './processes.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface BenchGateway extends Child {
  /** Stops the gateway and removes its folder. */
  close(): Promise<void>;
}

export interface GatewayOptions {
  /** The gms_builtin endpoint file (default: open to anyone, no agents). */
  endpoint?: object;
  storeUrl?: string;
  env?: Record<string, string>;
}

export function startHelloKoa(): Promise<Child> {
  return startChild(path.join(ROOT, 'bench/lib/hello-koa.ts'), {});
}

/** Bare Koa with one @koa/router route answering "hello": the cost of routing alone. */
export function startHelloRouter(): Promise<Child> {
  return startChild(path.join(ROOT, 'bench/lib/hello-router.ts'), {});
}

/** The reference chat server (lib/reference-chat.ts) on a SQLite file in a temporary folder. */
export async function startReferenceChat(): Promise<BenchGateway> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gms-reference-'));
  const child = await startChild(
    path.join(ROOT, 'bench/lib/reference-chat.ts'),
    { REFERENCE_DB: path.join(dir, 'data', 'ref.sqlite') },
    '/healthz',
  );
  return {
    ...child,
    close: async () => {
      await child.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

export async function startBenchGateway(options: GatewayOptions = {}): Promise<BenchGateway> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gms-bench-'));
  await fs.mkdir(path.join(dir, 'services.d'));
  await fs.mkdir(path.join(dir, 'endpoints.d'));
  await fs.writeFile(path.join(dir, 'services.d', 'request-chat.json'), '{}');
  await fs.writeFile(path.join(dir, 'endpoints.d', 'gms_builtin.json'), JSON.stringify(options.endpoint ?? { open: true }));
  const env = {
    SERVICES_DIR: path.join(dir, 'services.d'),
    ENDPOINTS_DIR: path.join(dir, 'endpoints.d'),
    STORE_URL: options.storeUrl ?? `sqlite://${path.join(dir, 'data', 'sessions.sqlite')}`,
    LOG_LEVEL: 'warn',
    ...options.env,
  };
  buildOnce();
  const child = await startChild(path.join(ROOT, 'dist/main.js'), env, '/healthz').catch(async (err: unknown) => {
    await fs.rm(dir, { recursive: true, force: true });
    throw err;
  });
  return {
    ...child,
    close: async () => {
      await child.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

let built = false;

/** Builds dist/ if it is missing or older than src/ (once per bench process). */
function buildOnce(): void {
  if (built) return;
  const run = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: ROOT, stdio: 'inherit' });
  if (run.status !== 0) throw new Error('dist/ could not be built');
  built = true;
}
