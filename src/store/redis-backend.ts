// The backend on Redis, shared by every gateway node: values are strings in keyv's row format at
// `<prefix>::<key>` with Redis's own TTLs (so keys of earlier versions read), sets are sorted sets at
// `<prefix>:set:<name>`, and a commit is one Lua script: it checks the writer's fence (its lock lease)
// and applies every op, all or nothing, in Redis itself. Every command has the connection's deadline.

import type { RedisConnection } from './redis-connection.ts';
import type { Backend, Fence, Op, Row } from './store.ts';

/**
 * KEYS[1]: the lock key of the fence, or '' for none (ARGV[1] its token); KEYS[2..]: the keys of the
 * ops, which ARGV[2] lists in order as [kind, value, ttl-or-score].
 */
const COMMIT = `
if KEYS[1] ~= '' and redis.call('get', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('LEASELOST the session lock expired before this write')
end
for i, op in ipairs(cjson.decode(ARGV[2])) do
  local key = KEYS[i + 1]
  if op[1] == 'set' then redis.call('set', key, op[2], 'PX', op[3])
  elseif op[1] == 'delete' then redis.call('unlink', key)
  elseif op[1] == 'add' then redis.call('zadd', key, op[3], op[2])
  else redis.call('zrem', key, op[2]) end
end
return 1`;

/** Keys per SCAN page. */
const SCAN_COUNT = 500;

export class RedisBackend implements Backend {
  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
  ) {}

  async read(key: string): Promise<Row | undefined> {
    const text = await this.redis.timed(this.redis.client.get(this.key(key)));
    return text === null ? undefined : (JSON.parse(text) as Row);
  }

  async commit(ops: Op[], fence?: Fence): Promise<void> {
    const now = Date.now();
    const keys = [fence?.lockKey ?? '', ...ops.map((op) => ('key' in op ? this.key(op.key) : this.setKey(op.set)))];
    const encoded = ops.map((op) => {
      if (op.kind === 'set') {
        const ttlMs = Math.max(1, Math.ceil(op.ttlMs));
        return ['set', JSON.stringify({ value: op.value, expires: now + ttlMs }), ttlMs];
      }
      if (op.kind === 'delete') return ['delete'];
      return op.kind === 'add' ? ['add', op.member, op.score] : ['remove', op.member];
    });
    // Serialised before it is sent: a value that cannot be stored fails here, with nothing written.
    const args = [fence?.token ?? '', JSON.stringify(encoded)];
    await this.redis.timed(this.redis.client.eval(COMMIT, { keys, arguments: args }));
  }

  members(set: string): Promise<string[]> {
    return this.redis.timed(this.redis.client.zRange(this.setKey(set), 0, -1));
  }

  count(set: string): Promise<number> {
    return this.redis.timed(this.redis.client.zCard(this.setKey(set)));
  }

  upTo(set: string, maxScore: number, limit: number): Promise<string[]> {
    return this.redis.timed(
      this.redis.client.zRange(this.setKey(set), '-inf', maxScore, { BY: 'SCORE', LIMIT: { offset: 0, count: limit } }),
    );
  }

  async *scan(prefix: string): AsyncIterable<[string, unknown]> {
    const skip = this.key('').length;
    const match = `${this.key(prefix).replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
    let cursor = '0';
    do {
      const page = await this.redis.timed(this.redis.client.scan(cursor, { MATCH: match, COUNT: SCAN_COUNT }));
      cursor = String(page.cursor);
      if (page.keys.length === 0) continue;
      const texts = await this.redis.timed(this.redis.client.mGet(page.keys));
      for (const [i, text] of texts.entries())
        if (text !== null) yield [page.keys[i].slice(skip), (JSON.parse(text) as Row).value];
    } while (cursor !== '0');
  }

  async close(): Promise<void> {}

  private key(key: string): string {
    return `${this.prefix}::${key}`;
  }

  private setKey(name: string): string {
    return `${this.prefix}:set:${name}`;
  }
}
