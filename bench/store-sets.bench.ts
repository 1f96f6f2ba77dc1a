// What the chats' sets cost as they grow, on each backend: counting a set (a queue's length, the census),
// reading its due head (the expiry sweep: the 100 lowest scores), and adding then removing one member
// (a chat joining and leaving a queue, written with the record it belongs to), with sets of 1,000, 10,000 and 100,000 members. CPU of this
// process per operation (Redis's own work is in its process, so its rows show the client's side and the
// round trip is in the wall time). Every figure should stay flat as the set grows (the last column).
// Redis rows run when a server answers at BENCH_REDIS_URL (default redis://127.0.0.1:6379).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../src/log.ts';
import { EmbeddedSqlite } from '../src/store/embedded-sqlite.ts';
import { MemoryBackend } from '../src/store/memory-backend.ts';
import { RedisBackend } from '../src/store/redis-backend.ts';
import { RedisConnection } from '../src/store/redis-connection.ts';
import type { Backend, Op } from '../src/store/store.ts';

const SIZES = [1_000, 10_000, 100_000];
const REPEAT = 2_000;
const SET = 'queue:bench';

async function perOp(fn: () => Promise<unknown>): Promise<{ cpuUs: number; wallUs: number }> {
  for (let i = 0; i < 200; i++) await fn();
  const cpu = process.cpuUsage();
  const at = process.hrtime.bigint();
  for (let i = 0; i < REPEAT; i++) await fn();
  const used = process.cpuUsage(cpu);
  return { cpuUs: (used.user + used.system) / REPEAT, wallUs: Number(process.hrtime.bigint() - at) / 1000 / REPEAT };
}

/** Each member comes with the record it belongs to, as a chat's places come with its session. */
const owned = (member: string, score: number): Op[] => [
  { kind: 'set', key: `owner:${member}`, value: 1, ttlMs: 3_600_000 },
  { kind: 'add', set: SET, member, score, owner: `owner:${member}` },
];

async function fill(backend: Backend, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i += 1000) {
    const ops: Op[] = [];
    for (let j = i; j < Math.min(to, i + 1000); j++) ops.push(...owned(`chat-${j}`, 1_000_000 + j));
    await backend.commit(ops);
  }
}

async function measure(name: string, backend: Backend): Promise<void> {
  const rows: Record<string, { cpuUs: number; wallUs: number }>[] = [];
  let size = 0;
  for (const target of SIZES) {
    await fill(backend, size, target);
    size = target;
    let n = 0;
    rows.push({
      count: await perOp(() => backend.count(SET)),
      'due head (100)': await perOp(() => backend.upTo(SET, 1_000_000 + 99, 100)),
      'add + remove': await perOp(async () => {
        const member = `extra-${n++ % 50}`;
        await backend.commit(owned(member, 1_000_000 + size / 2));
        await backend.commit([{ kind: 'remove', set: SET, member, owner: `owner:${member}` }]);
      }),
    });
  }
  console.log(`\n${name}: µs of CPU (wall) per operation, by set size`);
  console.log(
    `${'operation'.padEnd(16)}${SIZES.map((s) => `${s.toLocaleString('en')} members`.padStart(22)).join('')}   ${SIZES.at(-1)!.toLocaleString('en')} / ${SIZES[0].toLocaleString('en')}`,
  );
  for (const op of Object.keys(rows[0])) {
    const cells = rows.map((r) => `${r[op].cpuUs.toFixed(1)} (${r[op].wallUs.toFixed(1)})`.padStart(22)).join('');
    console.log(`${op.padEnd(16)}${cells}   ${(rows.at(-1)![op].cpuUs / rows[0][op].cpuUs).toFixed(2)}×`);
  }
}

const memory = new MemoryBackend();
await measure('memory://', memory);
await memory.close();

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gms-bench-sets-'));
const sqlite = await EmbeddedSqlite.open(path.join(dir, 'sets.sqlite'), {
  busyTimeoutMs: 500,
  pageSize: 250,
  namespace: 'bench',
});
await measure('SQLite file', sqlite);
await sqlite.close();
fs.rmSync(dir, { recursive: true, force: true });

const url = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const connection = await RedisConnection.open({ url, log: createLogger('silent') }).catch(() => undefined);
if (!connection) console.log(`\nRedis: none answers at ${url}; its rows are skipped`);
else {
  const prefix = `bench-sets-${process.pid}`;
  try {
    await measure(`Redis (${url})`, new RedisBackend(connection, prefix));
  } finally {
    await connection.client.del(`${prefix}:set:${SET}`);
    for await (const keys of connection.client.scanIterator({ MATCH: `${prefix}::owner:*`, COUNT: 1000 }))
      if (keys.length > 0) await connection.client.del(keys);
    await connection.close();
  }
}
