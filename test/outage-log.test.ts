// What an operator reads in the log when Redis goes away for a while: one warning when the outage
// starts and one line when it ends, with its duration, not a line per reconnect attempt or sweep.

import { expect } from 'chai';
import { eventually } from './helpers/gateway.ts';
import { OwnRedis, requireRedis, startNode, uniquePrefix, type GatewayNode } from './helpers/redis-nodes.ts';

describe('the log of a Redis outage', function () {
  this.timeout(30_000);
  let redis: OwnRedis | undefined;
  let node: GatewayNode | undefined;

  before(async function () {
    await requireRedis(this);
    redis = await OwnRedis.start();
    // Frequent sweeps: each one would have logged its failure during the outage.
    node = await startNode('L', { STORE_URL: redis.url, STORE_PREFIX: uniquePrefix('outage'), SWEEP_INTERVAL_MS: '100' });
  });

  after(async () => {
    await node?.stop();
    await redis?.remove();
  });

  it('says once that Redis is down and once that it is back, with how long it was gone; /metrics answers meanwhile', async () => {
    // What was logged at start (the warning of an unlocked admin door) is not about the outage.
    const atStart = node!.logLines().length;
    await redis!.stop();
    const stoppedAt = Date.now();
    await eventually(() => node!.logLines().some((l) => l.msg.startsWith('Redis is not answering')), 3000, 'the outage logged');
    // Reconnect attempts back off to one a second: three seconds down make several retries and 30 sweeps.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    // Meanwhile /metrics still answers: the chat figures it cannot read are left out, the rest is there.
    const scrape = await node!.get('/metrics');
    expect(scrape.status).to.equal(200);
    expect(scrape.body as string).to.match(/^gms_process_memory_bytes\{kind="rss"\} \d+/m);
    await redis!.restart();
    await eventually(() => node!.logLines().some((l) => l.msg.startsWith('Redis is back')), 5000, 'the end of the outage logged');

    const logged = node!.logLines().slice(atStart);
    const warnings = logged.filter((l) => l.level >= 40).map((l) => l.msg);
    // At most the outage itself and the sweep it stopped, each said once.
    expect(
      warnings.filter((m) => m === 'Redis is not answering; calls get 503 until it is back'),
      node!.output(),
    ).to.have.length(1);
    // Besides the outage itself, each background task it stopped says so once: the sweep, the admin
    // configuration sync, the push notification drain.
    const tasks = [
      'could not end expired chats',
      'cannot read the configuration changes made through the admin API; this node keeps its files as they are',
      'could not send push notifications: the outbox cannot be read',
    ];
    expect(
      warnings.filter((m) => !tasks.includes(m)),
      node!.output(),
    ).to.have.length(1);
    for (const task of tasks) expect(warnings.filter((m) => m === task).length, task).to.be.at.most(1);
    const back = logged.filter((l) => l.msg.startsWith('Redis is back'));
    expect(back).to.have.length(1);
    expect(back[0].outageMs).to.be.within(3000, Date.now() - stoppedAt + 500);
    expect(back[0].msg).to.match(/^Redis is back after \d+\.\d s$/);
    expect(node!.alive()).to.equal(true);
  });
});
