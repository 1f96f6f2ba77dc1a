// The request latency histogram the gateway keeps itself (src/http/request-latency.ts) is written exactly
// as prom-client writes a histogram of the same observations: same lines, same order, same numbers.

import { expect } from 'chai';
import { Histogram, Registry } from 'prom-client';
import { LATENCY_BUCKETS, LATENCY_NAME, RequestLatency } from '../src/http/request-latency.ts';

/** A small deterministic generator, so that a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

async function promClientText(observations: [string, string, number][]): Promise<string> {
  const registry = new Registry();
  const histogram = new Histogram({
    name: LATENCY_NAME,
    help: 'Time to answer an HTTP request, by method and route pattern.',
    labelNames: ['method', 'route'],
    buckets: [...LATENCY_BUCKETS],
    registers: [registry],
  });
  for (const [method, route, seconds] of observations) histogram.labels(method, route).observe(seconds);
  return (await registry.metrics()).trimEnd();
}

describe('the request latency histogram', () => {
  it('is written as prom-client writes the same observations, for random series and values', async () => {
    const routes = ['/genesys/1/service/:id/ixn/chat', 'unmatched', 'a "quoted" \\ route\nwith a newline', '/metrics'];
    const methods = ['GET', 'POST', 'other'];
    for (let seed = 1; seed <= 50; seed++) {
      const next = random(seed);
      const observations: [string, string, number][] = [];
      const count = Math.floor(next() * 200);
      for (let i = 0; i < count; i++) {
        // Values on, below and above the bounds, and past the last one.
        const bound = LATENCY_BUCKETS[Math.floor(next() * LATENCY_BUCKETS.length)];
        const value = next() < 0.2 ? bound : next() < 0.1 ? 5 + next() * 10 : next() * bound * 2;
        observations.push([methods[Math.floor(next() * methods.length)], routes[Math.floor(next() * routes.length)], value]);
      }
      const ours = new RequestLatency();
      for (const [method, route, seconds] of observations) ours.of(method, route).observe(seconds);
      expect(ours.text(), `seed ${seed}`).to.equal(await promClientText(observations));
    }
  });

  it('has one series per method and route, whatever the order of the requests', () => {
    const latency = new RequestLatency();
    latency.of('POST', '/a').observe(0.002);
    latency.of('GET', '/a').observe(0.002);
    latency.of('POST', '/a').observe(7);
    const text = latency.text();
    expect(text).to.contain(`${LATENCY_NAME}_count{method="POST",route="/a"} 2`);
    expect(text).to.contain(`${LATENCY_NAME}_bucket{le="0.0025",method="POST",route="/a"} 1`);
    expect(text).to.contain(`${LATENCY_NAME}_bucket{le="+Inf",method="POST",route="/a"} 2`);
    expect(text).to.contain(`${LATENCY_NAME}_count{method="GET",route="/a"} 1`);
  });
});
