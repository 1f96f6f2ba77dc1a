// The expiry sweep on several nodes sharing one Redis: one node at a time ends expired chats (a lease
// in the store), every node's /metrics shows the census that node took, and when it dies another node
// takes over without an operator.

import { expect } from 'chai';
import { startCustomerChat } from './helpers/chat-client.ts';
import { eventually } from './helpers/gateway.ts';
import { dropPrefix, requireRedis, SHARED_REDIS_URL, startNodes, uniquePrefix, type GatewayNode } from './helpers/redis-nodes.ts';

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function figures(node: GatewayNode): Promise<{ sweeps: number; expired: number; live: number | undefined }> {
  const text = (await node.get('/metrics')).body as string;
  return {
    sweeps: sample(text, 'gms_expiry_sweeps_total') ?? 0,
    expired: sample(text, 'gms_sessions_expired_total') ?? 0,
    live: sample(text, 'gms_chats_live'),
  };
}

describe('the expiry sweep on several nodes', function () {
  this.timeout(30_000);
  const prefix = uniquePrefix('sweep');
  let nodes: GatewayNode[] = [];

  before(async function () {
    await requireRedis(this);
    nodes = await startNodes(
      3,
      { STORE_URL: SHARED_REDIS_URL, STORE_PREFIX: prefix, SWEEP_INTERVAL_MS: '100' },
      { 'brief.json': { ttl: 1 } },
    );
  });

  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    if (nodes.length > 0) await dropPrefix(prefix);
  });

  it('one node sweeps while the others skip, and every node reports the same cluster-wide chats', async () => {
    // Ten sweep intervals pass: one node has swept every time, the others never.
    await eventually(async () => (await Promise.all(nodes.map(figures))).some((f) => f.sweeps >= 10), 5000, 'ten sweeps');
    const sweeps = (await Promise.all(nodes.map(figures))).map((f) => f.sweeps);
    expect(
      sweeps.filter((n) => n > 0),
      `sweeps by node: ${sweeps.join(', ')}`,
    ).to.have.length(1);

    // A chat started on any node is counted by the sweeping node and shown by all of them.
    await startCustomerChat(nodes[2], { service: 'brief' });
    await eventually(
      async () => (await Promise.all(nodes.map(figures))).every((f) => f.live === 1),
      3000,
      'the chat on every node',
    );
    // It expires after its 1 s, once, by the one node that sweeps.
    await eventually(async () => (await Promise.all(nodes.map(figures))).every((f) => f.live === 0), 4000, 'the chat expired');
    const expired = (await Promise.all(nodes.map(figures))).map((f) => f.expired);
    expect(
      expired.reduce((a, b) => a + b, 0),
      `expired by node: ${expired.join(', ')}`,
    ).to.equal(1);
    expect(expired.indexOf(1)).to.equal(sweeps.findIndex((n) => n > 0));
  });

  it('when the sweeping node dies, another node takes over and ends the chats that expire', async () => {
    const holder = nodes[(await Promise.all(nodes.map(figures))).findIndex((f) => f.sweeps > 0)];
    const others = nodes.filter((n) => n !== holder);
    const chat = await startCustomerChat(others[0], { service: 'brief' });
    holder.process.kill('SIGKILL'); // no clean stop: its lease is left to run out
    const killedAt = Date.now();

    let survivor: GatewayNode | undefined;
    await eventually(
      async () => {
        for (const node of others) if ((await figures(node)).sweeps > 0) survivor = node;
        return survivor;
      },
      5000,
      'another node sweeping',
    );
    // The lease (1.1 s here) outlives one interval by a second at most, so the gap is a lease and the
    // polls of /metrics, far below the chat's ttl; loaded CI machines have taken 3.1 s.
    expect(Date.now() - killedAt).to.be.below(4500);
    await eventually(async () => (await figures(survivor!)).expired === 1, 4000, 'the chat ended by the new sweeper');
    expect((await others[1].post(`/genesys/1/service/${chat.id}/ixn/chat/refresh`)).status).to.equal(404);
    expect((await Promise.all(others.map(figures))).map((f) => f.live)).to.deep.equal([0, 0]);
  });
});
