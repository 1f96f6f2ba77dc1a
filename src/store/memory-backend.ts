// The `memory://` backend (tests, a single short-lived node): rows as JSON text, as a real backend keeps
// them (so that what cannot be stored fails here too), and sorted sets; a commit applies all its ops in
// one synchronous step, so no reader sees half of it.

import { SortedSet } from './sorted-set.ts';
import type { Backend, Op, Row } from './store.ts';

export class MemoryBackend implements Backend {
  private readonly rows = new Map<string, string>();
  private readonly sets = new Map<string, SortedSet>();

  async read(key: string): Promise<Row | undefined> {
    const text = this.rows.get(key);
    return text === undefined ? undefined : (JSON.parse(text) as Row);
  }

  async commit(ops: Op[]): Promise<void> {
    // Serialised first: an op that cannot be stored leaves nothing changed.
    const now = Date.now();
    const texts = ops.map((op) => (op.kind === 'set' ? JSON.stringify({ value: op.value, expires: now + op.ttlMs }) : ''));
    ops.forEach((op, i) => {
      if (op.kind === 'set') this.rows.set(op.key, texts[i]);
      else if (op.kind === 'delete') this.rows.delete(op.key);
      else if (op.kind === 'add') this.set(op.set).add(op.member, op.score);
      else {
        const set = this.sets.get(op.set);
        set?.remove(op.member);
        if (set?.size === 0) this.sets.delete(op.set);
      }
    });
  }

  async members(set: string): Promise<string[]> {
    return this.sets.get(set)?.members() ?? [];
  }

  async count(set: string): Promise<number> {
    return this.sets.get(set)?.size ?? 0;
  }

  async upTo(set: string, maxScore: number, limit: number): Promise<string[]> {
    return this.sets.get(set)?.upTo(maxScore, limit) ?? [];
  }

  async *scan(prefix: string): AsyncIterable<[string, unknown]> {
    for (const [key, text] of [...this.rows]) {
      if (!key.startsWith(prefix)) continue;
      const row = JSON.parse(text) as Row;
      if (row.expires === undefined || row.expires > Date.now()) yield [key, row.value];
      else if (this.rows.get(key) === text) this.rows.delete(key);
    }
  }

  async close(): Promise<void> {
    this.rows.clear();
    this.sets.clear();
  }

  private set(name: string): SortedSet {
    let set = this.sets.get(name);
    if (!set) this.sets.set(name, (set = new SortedSet()));
    return set;
  }
}
