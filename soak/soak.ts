// `npm run soak`: holds thousands of chats on a real gateway with steady traffic over HTTP for a few
// minutes; samples its memory after a forced garbage collection, and the keys in its store; reports the
// growth once the load is steady, and checks that expired sessions are freed. Opt-in, bounded, never
// part of npm test. Runs the gateway in this process (node --expose-gc) so that the heap can be
// measured exactly, without garbage still waiting for a collection.
//
// SOAK_SECONDS (default 180) · SOAK_CHATS live chats held (2000) · SOAK_TTL service ttl in seconds (15)
// SOAK_STORE_URL (default memory://, so freed sessions show in the heap) · SOAK_MAX_GROWTH_PCT (10)

import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startGateway } from '../src/gateway.ts';
import { createLogger } from '../src/log.ts';
import { readSettings } from '../src/settings.ts';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 180);
const CHATS = Number(process.env.SOAK_CHATS ?? 2000);
const TTL = Number(process.env.SOAK_TTL ?? 15);
const STORE_URL = process.env.SOAK_STORE_URL ?? 'memory://';
const MAX_GROWTH_PCT = Number(process.env.SOAK_MAX_GROWTH_PCT ?? 10);
/** Each customer acts every this many milliseconds: about CHATS / 3 requests per second in all. */
const THINK_MS = 3000;
const WARM_UP_SHARE = 0.3;

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function post(
  base: URL,
  pathname: string,
  form: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        path: pathname,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

async function main(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc (npm run soak does)');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gms-soak-'));
  await fs.mkdir(path.join(dir, 'services.d'));
  await fs.mkdir(path.join(dir, 'endpoints.d'));
  await fs.writeFile(path.join(dir, 'services.d', 'soak.json'), JSON.stringify({ ttl: TTL }));
  await fs.writeFile(path.join(dir, 'endpoints.d', 'gms_builtin.json'), '{}');
  const store = STORE_URL.replace('$DIR', dir);
  const settings = readSettings({
    PORT: '0',
    HOST: '127.0.0.1',
    SERVICES_DIR: path.join(dir, 'services.d'),
    ENDPOINTS_DIR: path.join(dir, 'endpoints.d'),
    STORE_URL: store,
    SWEEP_INTERVAL_MS: '1000',
  });
  const gw = await startGateway(settings, createLogger('warn'));
  const base = new URL(gw.url);
  console.log(`soak: ${CHATS} chats for ${SECONDS} s on ${gw.url} (store ${store}, ttl ${TTL} s)`);

  let requests = 0;
  let errors = 0;
  /** Error answers by status and exception (or the network error), to say what went wrong. */
  const failures = new Map<string, number>();
  const failed = (what: string): void => {
    errors++;
    failures.set(what, (failures.get(what) ?? 0) + 1);
  };
  let ended = 0;
  let abandoned = 0;
  let stopping = false;

  /** One customer after another in the same slot: a chat of 10 to 30 s, then leave or simply go away. */
  const slot = async (n: number): Promise<void> => {
    await sleep((n / CHATS) * THINK_MS);
    while (!stopping) {
      try {
        const created = await post(base, '/genesys/1/service/soak', { slot: String(n) });
        requests++;
        const id = created.body._id as string;
        const start = await post(base, `/genesys/1/service/${id}/ixn/chat`, { firstName: `C${n}` });
        requests++;
        if (start.status !== 200) {
          failed(`${created.status}/${start.status} ${String(created.body.exception ?? start.body.exception)} (create/start)`);
          await sleep(THINK_MS);
          continue;
        }
        const until = Date.now() + 10_000 + Math.random() * 20_000;
        for (let i = 0; Date.now() < until && !stopping; i++) {
          await sleep(THINK_MS);
          const reply = await post(base, `/genesys/1/service/${id}/ixn/chat/${i % 2 === 0 ? 'send' : 'refresh'}`, {
            message: `message ${i} `.repeat(8),
          });
          requests++;
          if (reply.status !== 200) failed(`${reply.status} ${String(reply.body.exception)}`);
        }
        if (Math.random() < 0.7) {
          await post(base, `/genesys/1/service/${id}/ixn/chat/disconnect`);
          requests++;
          ended++;
        } else {
          abandoned++; // left to expire after the ttl
        }
      } catch (err) {
        failed((err as Error).message);
        await sleep(THINK_MS);
      }
    }
  };

  /** Heap after a full collection, and what the store holds. */
  const measure = async (): Promise<{ heap: number; rss: number; keys: number; live: number }> => {
    gc();
    const { heapUsed, rss } = process.memoryUsage();
    let keys = 0;
    for await (const _ of gw.store.entries('')) keys++;
    // The census of the last expiry sweep (at most one sweep interval old).
    const census = await gw.sweeper.census();
    const live = census ? census.connected + Object.values(census.waiting).reduce((a, b) => a + b, 0) : 0;
    return { heap: heapUsed, rss, keys, live };
  };

  const line = (label: string, m: { heap: number; rss: number; keys: number; live: number }, extra = ''): void =>
    console.log(
      `  ${label.padStart(8)}  heap ${mb(m.heap).padStart(6)} MB  rss ${mb(m.rss).padStart(6)} MB  store keys ${String(m.keys).padStart(6)}  live chats ${String(m.live).padStart(5)}${extra}`,
    );

  const baseline = await measure();
  line('before', baseline);
  const samples: { t: number; heap: number }[] = [];
  const started = Date.now();
  const slots = Array.from({ length: CHATS }, (_, n) => slot(n));
  let lastRequests = 0;
  while (Date.now() - started < SECONDS * 1000) {
    await sleep(10_000);
    const m = await measure();
    const t = Math.round((Date.now() - started) / 1000);
    samples.push({ t, heap: m.heap });
    line(`t=${t} s`, m, `  ${Math.round((requests - lastRequests) / 10)} req/s`);
    lastRequests = requests;
  }
  stopping = true;
  await Promise.all(slots);

  const steady = samples.filter((s) => s.t >= SECONDS * WARM_UP_SHARE);
  const first = steady[0];
  const last = steady[steady.length - 1];
  const growth = ((last.heap - first.heap) / first.heap) * 100;
  // The trend over the steady phase (least squares), less sensitive to one sample than first-to-last.
  const n = steady.length;
  const mt = steady.reduce((a, s) => a + s.t, 0) / n;
  const mh = steady.reduce((a, s) => a + s.heap, 0) / n;
  const slope =
    steady.reduce((a, s) => a + (s.t - mt) * (s.heap - mh), 0) /
    Math.max(
      1,
      steady.reduce((a, s) => a + (s.t - mt) ** 2, 0),
    );

  // Drain: every chat left is abandoned now; after the ttl and a sweep, all must be gone.
  const drainStart = Date.now();
  let after = await measure();
  console.log(`drain: traffic stopped with ${after.live} live chats; waiting for the ttl (${TTL} s) and the sweeper`);
  while ((after.live > 0 || after.keys > 1) && Date.now() - drainStart < (TTL + 90) * 1000) {
    await sleep(2000);
    after = await measure();
  }
  line('drained', after);

  const why = [...failures].map(([what, n]) => `${n}× ${what}`).join(', ');
  console.log(
    `requests ${requests} (${errors} errors${why ? `: ${why}` : ''}), chats ended by the customer ${ended}, left to expire ${abandoned}`,
  );
  console.log(
    `heap under steady load: ${mb(first.heap)} MB at t=${first.t} s → ${mb(last.heap)} MB at t=${last.t} s ` +
      `(${growth >= 0 ? '+' : ''}${growth.toFixed(1)} %, trend ${((slope * 60) / 1024 / 1024).toFixed(2)} MB/min)`,
  );
  console.log(
    `after the drain: ${after.live} live chats, ${after.keys} store keys, heap ${mb(after.heap)} MB (before the soak ${mb(baseline.heap)} MB)`,
  );

  await gw.close();
  agent.destroy();
  await fs.rm(dir, { recursive: true, force: true });

  const ok = growth < MAX_GROWTH_PCT && after.live === 0 && errors < requests / 1000;
  console.log(
    ok
      ? 'soak: PASS'
      : `soak: FAIL (heap growth must stay under ${MAX_GROWTH_PCT} %, every chat must expire, errors under 0.1 %)`,
  );
  process.exit(ok ? 0 : 1);
}

await main();
