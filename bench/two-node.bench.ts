// Two gateway nodes against one on the same Redis: customer send+refresh throughput (each customer's
// send lands on one node and its refresh on the other, as with a load balancer without sticky sessions),
// and how long an event sent on node B takes to reach a push subscriber on node A (p50/p99).
// Throughput is reported as a ratio against a bare Koa "hello" server driven the same way in this run.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGateway } from '../src/gateway.ts';
import { createLogger } from '../src/log.ts';
import { readSettings } from '../src/settings.ts';
import { makeTempDir } from '../test/helpers/gateway.ts';
import { dropPrefix, SHARED_REDIS_URL, startNode, uniquePrefix, type GatewayNode } from '../test/helpers/redis-nodes.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 32);
const PUSHES = Number(process.env.BENCH_PUSHES ?? 500);

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function post(base: string, pathname: string, body = ''): Promise<{ status: number; text: string }> {
  const url = new URL(pathname, base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** `CUSTOMERS` loops of send-then-refresh for SECONDS; returns completed pairs per second. */
async function drive(pair: (customer: number, round: number) => Promise<void>): Promise<number> {
  const until = Date.now() + SECONDS * 1000;
  let pairs = 0;
  await Promise.all(
    Array.from({ length: CUSTOMERS }, async (_, c) => {
      for (let round = 0; Date.now() < until; round++) {
        await pair(c, round);
        pairs++;
      }
    }),
  );
  return pairs / SECONDS;
}

async function startKoaHello(): Promise<{ url: string; child: ChildProcess }> {
  const code = `import Koa from 'koa'; const app = new Koa(); app.use((ctx) => { ctx.body = { hello: 'world' }; });
    const server = app.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ url: 'http://127.0.0.1:' + server.address().port })));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) =>
    child.stdout.once('data', (d: Buffer) => resolve((JSON.parse(d.toString()) as { url: string }).url)),
  );
  return { url, child };
}

async function startChats(nodes: GatewayNode[], count: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const created = await post(nodes[i % nodes.length].url, '/genesys/1/service/request-chat');
      const id = (JSON.parse(created.text) as { _id: string })._id;
      await post(nodes[(i + 1) % nodes.length].url, `/genesys/1/service/${id}/ixn/chat`, 'firstName=Bench');
      return id;
    }),
  );
}

function throughput(nodes: GatewayNode[], ids: string[]): Promise<number> {
  return drive(async (c, round) => {
    const id = ids[c];
    const sendOn = nodes[(c + round) % nodes.length];
    const refreshOn = nodes[(c + round + 1) % nodes.length];
    const sent = await post(sendOn.url, `/genesys/1/service/${id}/ixn/chat/send`, `message=m${round}`);
    const refreshed = await post(refreshOn.url, `/genesys/1/service/${id}/ixn/chat/refresh`);
    if (sent.status !== 200 || refreshed.status !== 200)
      throw new Error(`bench call failed: ${sent.status} ${refreshed.status} ${sent.text}`);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function pushLatency(prefix: string, nodeB: GatewayNode): Promise<{ p50: number; p99: number }> {
  // Node A runs in this process so that its ChatHub, where CometD and agent pushes start, can be watched.
  const dir = await makeTempDir('gms-bench-a-');
  await fs.mkdir(path.join(dir, 'services.d'));
  await fs.mkdir(path.join(dir, 'endpoints.d'));
  await fs.writeFile(path.join(dir, 'services.d', 'request-chat.json'), '{}');
  await fs.writeFile(path.join(dir, 'endpoints.d', 'gms_builtin.json'), '{}');
  const settings = readSettings({
    PORT: '0',
    HOST: '127.0.0.1',
    SERVICES_DIR: path.join(dir, 'services.d'),
    ENDPOINTS_DIR: path.join(dir, 'endpoints.d'),
    STORE_URL: SHARED_REDIS_URL,
    STORE_PREFIX: prefix,
    LOG_LEVEL: 'silent',
  });
  const nodeA = await startGateway(settings, createLogger('silent'));
  try {
    const [id] = await startChats([nodeB], 1);
    const waiting = new Map<string, (at: number) => void>();
    nodeA.hub.subscribe((update) => {
      for (const event of update.events) waiting.get(event.text)?.(performance.now());
    });
    const latencies: number[] = [];
    for (let i = 0; i < PUSHES; i++) {
      const text = `push ${i}`;
      const arrived = new Promise<number>((resolve) => waiting.set(text, resolve));
      const sentAt = performance.now();
      await post(nodeB.url, `/genesys/1/service/${id}/ixn/chat/send`, `message=${encodeURIComponent(text)}`);
      latencies.push((await arrived) - sentAt);
      waiting.delete(text);
    }
    latencies.sort((a, b) => a - b);
    return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  } finally {
    await nodeA.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function redisAnswers(): Promise<boolean> {
  const { hostname, port } = new URL(SHARED_REDIS_URL);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 6379), timeout: 500 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

if (!(await redisAnswers())) {
  console.log(`skipped: no Redis answers at ${SHARED_REDIS_URL}`);
  process.exit(0);
}

const prefix = uniquePrefix('bench');
const koa = await startKoaHello();
const nodes: GatewayNode[] = [];
try {
  const koaRate = await drive(async () => {
    await post(koa.url, '/');
    await post(koa.url, '/');
  });
  const env = { STORE_URL: SHARED_REDIS_URL, STORE_PREFIX: prefix };
  nodes.push(...(await Promise.all([startNode('A', env), startNode('B', env)])));
  const oneIds = await startChats([nodes[0]], CUSTOMERS);
  const one = await throughput([nodes[0]], oneIds);
  const twoIds = await startChats(nodes, CUSTOMERS);
  const two = await throughput(nodes, twoIds);
  const latency = await pushLatency(prefix, nodes[1]);

  const fmt = (n: number): string => n.toFixed(0).padStart(7);
  console.log(`send+refresh pairs/s, ${CUSTOMERS} customers, ${SECONDS}s each, same Redis (machine: ${os.cpus().length} CPUs)`);
  console.log(`  bare Koa hello (2 requests)  ${fmt(koaRate)}  = 1.00`);
  console.log(`  one gateway node             ${fmt(one)}  = ${(one / koaRate).toFixed(2)} of Koa`);
  console.log(
    `  two gateway nodes            ${fmt(two)}  = ${(two / koaRate).toFixed(2)} of Koa, ${(two / one).toFixed(2)}x one node`,
  );
  console.log(`cross-node push (send on B → node A's chat hub), ${PUSHES} sequential sends`);
  console.log(`  p50 ${latency.p50.toFixed(2)} ms, p99 ${latency.p99.toFixed(2)} ms`);
} finally {
  koa.child.kill();
  await Promise.all(nodes.map((n) => n.stop()));
  await dropPrefix(prefix);
  agent.destroy();
}
