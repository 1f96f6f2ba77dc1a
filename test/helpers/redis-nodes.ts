// Several gateway nodes on one Redis, as operators run them: each node a real process (dist/main.js,
// as `npm start` runs it) with its own services.d/ and endpoints.d/, sharing Redis under a key prefix unique to the run.
// Also a Redis server of a test's own, to stop and restart.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { createClient } from '@keyv/redis';
import { hashToken } from '../../src/endpoints/token-hash.ts';
import { GATEWAY_MAIN, ROOT } from './built.ts';
import { makeTempDir, request, type Body, type Reply } from './gateway.ts';

export const SHARED_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Agents every node knows: id, nickname and bearer token. */
export const AGENTS = [
  { id: 'alice', nickname: 'Alice', token: 'alice-token-for-multi-node-tests' },
  { id: 'bob', nickname: 'Bob', token: 'bob-token-for-multi-node-tests' },
  { id: 'carol', nickname: 'Carol', token: 'carol-token-for-multi-node-tests' },
] as const;

export function agentHeaders(agentId: string): Record<string, string> {
  const agent = AGENTS.find((a) => a.id === agentId);
  if (!agent) throw new Error(`no test agent ${agentId}`);
  return { authorization: `Bearer ${agent.token}` };
}

/** A key prefix no other run (or test) uses, so runs sharing one Redis never meet. */
export function uniquePrefix(name: string): string {
  return `test-${name}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

function reachable(url: string, ms = 500): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 6379), timeout: ms });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/**
 * Skips the suite, saying why, when no Redis answers on a developer's machine; under CI=true a missing
 * Redis fails the suite instead, so these tests can never silently not run there.
 */
export async function requireRedis(ctx: Mocha.Context, url = SHARED_REDIS_URL): Promise<void> {
  if (await reachable(url)) return;
  const why = `no Redis answers at ${url}`;
  if (process.env.CI === 'true') throw new Error(`${why}: the multi-node tests must run in CI`);
  console.warn(`      skipped: ${why} (start redis-server to run the multi-node tests)`);
  ctx.skip();
}

/** Deletes every key of a test run. */
export async function dropPrefix(prefix: string, url = SHARED_REDIS_URL): Promise<void> {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      if (keys.length > 0) await client.del(keys);
    }
  } finally {
    client.destroy();
  }
}

export interface GatewayNode {
  name: string;
  url: string;
  process: ChildProcess;
  post(pathname: string, body?: Body, headers?: Record<string, string>): Promise<Reply>;
  get(pathname: string, headers?: Record<string, string>): Promise<Reply>;
  /** Whether the process is still running (it must survive a Redis outage). */
  alive(): boolean;
  /** What the node logged, for failure messages. */
  output(): string;
  /** The node's structured log lines, parsed. */
  logLines(): LogLine[];
  stop(): Promise<void>;
}

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export type NodeEnv = { STORE_URL: string; STORE_PREFIX: string } & Record<string, string>;

/** Service files of every node: request-chat with the defaults unless told otherwise. */
export type ServiceFiles = Record<string, unknown>;

const running = new Set<ChildProcess>();
/**
 * Ties `child` to this test run: it is killed when the run exits or is stopped by SIGTERM/SIGINT (a
 * timeout, a developer's Ctrl-C), so no gateway node lives on orphaned, burning CPU and holding ports.
 */
function outliveNothing(child: ChildProcess): void {
  if (running.size === 0) {
    process.once('exit', killAll);
    process.once('SIGTERM', killAllAndStop);
    process.once('SIGINT', killAllAndStop);
  }
  running.add(child);
  child.once('exit', () => running.delete(child));
}
function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
}
function killAllAndStop(signal: NodeJS.Signals): void {
  killAll();
  process.off('SIGTERM', killAllAndStop).off('SIGINT', killAllAndStop);
  process.kill(process.pid, signal);
}

/** Starts one gateway process and waits for the line in which it says where it listens. */
export async function startNode(
  name: string,
  env: NodeEnv,
  services: ServiceFiles = { 'request-chat.json': {} },
): Promise<GatewayNode> {
  const dir = await makeTempDir(`gms-node-${name}-`);
  const servicesDir = path.join(dir, 'services.d');
  const endpointsDir = path.join(dir, 'endpoints.d');
  await fs.mkdir(servicesDir);
  await fs.mkdir(endpointsDir);
  for (const [file, content] of Object.entries(services))
    await fs.writeFile(path.join(servicesDir, file), JSON.stringify(content));
  const agents = AGENTS.map((a) => ({ id: a.id, nickname: a.nickname, token: hashToken(a.token) }));
  await fs.writeFile(path.join(endpointsDir, 'gms_builtin.json'), JSON.stringify({ open: true, agents }));

  const child = spawn(process.execPath, [GATEWAY_MAIN], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      SERVICES_DIR: servicesDir,
      ENDPOINTS_DIR: endpointsDir,
      LOG_LEVEL: 'info',
      // As in helpers/gateway.ts: longer than the tests' own keep-alive.
      KEEP_ALIVE_TIMEOUT_MS: '60000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  outliveNothing(child);
  let log = '';
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const url = await new Promise<string>((resolve, reject) => {
    let pending = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node ${name} did not start:\n${log}`));
    }, 45_000);
    child.stdout.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      pending += chunk.toString();
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        try {
          const entry = JSON.parse(line) as { url?: string; msg?: string };
          if (entry.url && entry.msg?.startsWith('gateway listening')) {
            clearTimeout(timer);
            resolve(entry.url);
          }
        } catch {
          // Not a log line of ours.
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      log += chunk.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`node ${name} exited with ${code}:\n${log}`));
    });
  });
  return {
    name,
    url,
    process: child,
    post: (p, b, h) => request(url, 'POST', p, b, h),
    get: (p, h) => request(url, 'GET', p, undefined, h),
    alive: () => !exited,
    output: () => log,
    logLines: () =>
      log
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as LogLine),
    async stop() {
      if (exited) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Starts nodes A, B, C...; if one cannot start, stops the others so that no process is left behind. */
export async function startNodes(count: number, env: NodeEnv, services?: ServiceFiles): Promise<GatewayNode[]> {
  const started = await Promise.allSettled(
    Array.from({ length: count }, (_, i) => startNode(String.fromCharCode(65 + i), env, services)),
  );
  const nodes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw failed.reason;
  }
  return nodes;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A redis-server of the test's own, on a free port, that the test may stop and start again. */
export class OwnRedis {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort(), await makeTempDir('gms-redis-'));
    await redis.restart();
    return redis;
  }

  /** Starts the server again on the same port, with what it saved when it stopped. */
  async restart(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir],
      {
        stdio: 'ignore',
      },
    );
    this.child = child;
    const deadline = Date.now() + 5000;
    while (!(await reachable(this.url, 200))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start on port ${this.port}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Stops the server as an operator's restart does: it saves its data first, then exits. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    const client = createClient({ url: this.url });
    client.on('error', () => undefined);
    await client.connect();
    // SHUTDOWN SAVE writes the data even though this server was started with no save points.
    await client.sendCommand(['SHUTDOWN', 'SAVE']).catch(() => undefined);
    client.destroy();
    await gone;
  }

  /** Brings the server back if a test stopped or froze it and failed before doing so itself. */
  async ensureRunning(): Promise<void> {
    this.thaw();
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) await this.restart();
  }

  /** Freezes the server (SIGSTOP): connections stay open and nothing answers, as with a hung Redis. */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  async remove(): Promise<void> {
    this.thaw();
    if (this.child && this.child.exitCode === null) {
      const gone = new Promise((resolve) => this.child!.once('exit', resolve));
      this.child.kill('SIGKILL');
      await gone;
    }
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}
