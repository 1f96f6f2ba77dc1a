import { expect } from 'chai';
import { randomId } from '../src/chat/random-id.ts';

describe('random ids', () => {
  it('are 16 upper-case hex digits, and none repeats across several refills of the pool', () => {
    const ids = Array.from({ length: 1000 }, () => randomId());
    for (const id of ids) expect(id).to.match(/^[0-9A-F]{16}$/);
    expect(new Set(ids).size).to.equal(ids.length);
  });
});
