// The memory backend's sorted set against the plainest model of one (a map, sorted on every read), under
// random adds, re-adds with new scores and removes: same members, same order (score, then member, as
// Redis and SQLite order theirs), same due heads, same size.

import { expect } from 'chai';
import fc from 'fast-check';
import { SortedSet } from '../src/store/sorted-set.ts';

const op = fc.oneof(
  fc.record({
    kind: fc.constant('add' as const),
    member: fc.integer({ min: 0, max: 30 }),
    score: fc.integer({ min: 0, max: 10 }),
  }),
  fc.record({ kind: fc.constant('remove' as const), member: fc.integer({ min: 0, max: 30 }) }),
);

describe('the memory sorted set', () => {
  it('orders, counts and reads due heads as a sorted map would', () => {
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 200 }),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 1, max: 40 }),
        (ops, max, limit) => {
          const set = new SortedSet();
          const model = new Map<string, number>();
          for (const o of ops) {
            const member = `m${o.member}`;
            if (o.kind === 'add') {
              set.add(member, o.score);
              model.set(member, o.score);
            } else {
              set.remove(member);
              model.delete(member);
            }
          }
          const sorted = [...model].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
          expect(set.members()).to.deep.equal(sorted.map(([m]) => m));
          expect(set.size).to.equal(model.size);
          expect(set.upTo(max, limit)).to.deep.equal(
            sorted
              .filter(([, s]) => s <= max)
              .slice(0, limit)
              .map(([m]) => m),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
