// A sorted set in memory, ordered as Redis and the SQLite backend order theirs (by score, then member):
// counting is the size of a map, and reading the due head of a set costs its length in the answer, not
// in the set.

export class SortedSet {
  private readonly scores = new Map<string, number>();
  /** Members in order; kept sorted on every change (a binary search, then one splice). */
  private readonly order: { member: string; score: number }[] = [];

  get size(): number {
    return this.scores.size;
  }

  add(member: string, score: number): void {
    const old = this.scores.get(member);
    if (old === score) return;
    if (old !== undefined) this.order.splice(this.find(member, old), 1);
    this.scores.set(member, score);
    this.order.splice(this.find(member, score), 0, { member, score });
  }

  remove(member: string): void {
    const score = this.scores.get(member);
    if (score === undefined) return;
    this.scores.delete(member);
    this.order.splice(this.find(member, score), 1);
  }

  members(): string[] {
    return this.order.map((e) => e.member);
  }

  /** Up to `limit` members scored `maxScore` or less, lowest first. */
  upTo(maxScore: number, limit: number): string[] {
    const due: string[] = [];
    for (const e of this.order) {
      if (e.score > maxScore || due.length >= limit) break;
      due.push(e.member);
    }
    return due;
  }

  /** Where (member, score) is, or would go, in `order`. */
  private find(member: string, score: number): number {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.order[mid];
      if (e.score < score || (e.score === score && e.member < member)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
