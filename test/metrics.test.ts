import { expect } from 'chai';
import faye from 'faye';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { closeFayeClients } from './helpers/faye-client.ts';
import { startCustomerChat } from './helpers/chat-client.ts';
import { eventually, startTestGateway, type TestGateway } from './helpers/gateway.ts';

/** The value of one sample line of the Prometheus text, e.g. `gms_chats_live` or `name{label="x"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
  let gw: TestGateway;
  beforeEach(async () => {
    // Chat figures come from the expiry sweep's census: a short interval keeps the tests quick.
    gw = await startTestGateway({
      services: { 'request-chat.json': {}, 'sales.json': { endpoint: 'gms_builtin' } },
      env: { SWEEP_INTERVAL_MS: '50' },
    });
  });
  afterEach(() => gw.close());

  const scrape = async (): Promise<string> => {
    const reply = await gw.get('/metrics');
    expect(reply.status).to.equal(200);
    expect(reply.headers.get('content-type')).to.contain('text/plain');
    return reply.body as string;
  };

  /** Scrapes until the figures satisfy `ok` (chat figures change at the next sweep), and returns that scrape. */
  const scrapeUntil = async (ok: (text: string) => boolean, what: string): Promise<string> => {
    let text = '';
    await eventually(async () => ok((text = await scrape())), 3000, what);
    return text;
  };

  it('counts requests by route pattern and status, and times them', async () => {
    const chat = await startCustomerChat(gw);
    await chat.call('send', { message: 'hi' });
    await gw.post('/genesys/1/service/no-such-service');
    await gw.post('/genesys/1/service/not-a-session/ixn/chat/send', { message: 'x' });
    const text = await scrape();
    expect(sample(text, 'gms_http_requests_total{method="POST",route="/genesys/1/service/:name",status="200"}')).to.equal(1);
    expect(sample(text, 'gms_http_requests_total{method="POST",route="/genesys/1/service/:name",status="404"}')).to.equal(1);
    expect(
      sample(text, 'gms_http_requests_total{method="POST",route="/genesys/1/service/:id/ixn/chat/send",status="200"}'),
    ).to.equal(1);
    expect(
      sample(text, 'gms_http_requests_total{method="POST",route="/genesys/1/service/:id/ixn/chat/send",status="404"}'),
    ).to.equal(1);
    expect(
      sample(text, 'gms_http_request_duration_seconds_count{method="POST",route="/genesys/1/service/:id/ixn/chat"}'),
    ).to.equal(1);
    // Paths that match no route share one label, so that random URLs cannot blow up the series.
    await gw.get('/random/path/1');
    await gw.get('/random/path/2');
    expect(sample(await scrape(), 'gms_http_requests_total{method="GET",route="unmatched",status="404"}')).to.equal(2);
  });

  it('leaves the health probe out: GET /healthz is answered ahead of everything else, not cacheable, and not counted', async () => {
    const probe = await gw.get('/healthz');
    expect(probe.status).to.equal(200);
    expect(probe.body).to.deep.equal({ status: 'ok', services: 2 });
    expect(probe.headers.get('cache-control')).to.equal('no-cache, no-store');
    expect((await fetch(`${gw.url}/healthz`, { method: 'HEAD' })).status).to.equal(200);
    // Matched as every route is: in any case, with or without a trailing slash.
    for (const path of ['/HEALTHZ', '/healthz/']) expect((await gw.get(path)).body, path).to.deep.equal(probe.body);
    const text = await scrape();
    expect(text).not.to.contain('route="/healthz"');
    // Another method is any unknown route: the API's error body, counted as unmatched.
    const posted = await gw.post('/healthz');
    expect(posted.status).to.equal(404);
    expect(posted.body).to.include({ exception: 'NotFound' });
    expect(sample(await scrape(), 'gms_http_requests_total{method="POST",route="unmatched",status="404"}')).to.equal(1);
  });

  it('shows the live chats and the chats waiting at each endpoint as of the last sweep, going down when they end', async () => {
    const first = await startCustomerChat(gw);
    await startCustomerChat(gw, { service: 'sales' });
    await gw.post('/genesys/1/service/request-chat'); // a session without a chat is not a chat
    const figures = (text: string): string =>
      `${sample(text, 'gms_chats_live')} ${sample(text, 'gms_chats_waiting{endpoint="gms_builtin"}')}`;
    let text = await scrapeUntil((t) => figures(t) === '2 2', 'two live chats, both waiting');
    expect(sample(text, 'gms_chats_census_age_seconds')).to.be.within(0, 1);

    await first.call('disconnect');
    text = await scrapeUntil((t) => figures(t) === '1 1', 'one chat left');
    expect(sample(text, 'gms_expiry_sweeps_total')).to.be.above(1);
  });

  it('reads the figures of the stored census, whichever node took it, without scanning the sessions', async () => {
    await startCustomerChat(gw);
    await eventually(async () => sample(await scrape(), 'gms_chats_live') === 1, 3000, 'the chat counted');
    // A census written to the store (as another node's sweep would) is what every scrape reports.
    await gw.sweeper.stop();
    await gw.store.set('chat-census', { waiting: { sales_desk: 7 }, connected: 5, at: Date.now() - 4000, node: 'other' }, 60_000);
    const text = await scrape();
    expect(sample(text, 'gms_chats_live')).to.equal(12);
    expect(sample(text, 'gms_chats_waiting{endpoint="sales_desk"}')).to.equal(7);
    expect(sample(text, 'gms_chats_waiting{endpoint="gms_builtin"}')).to.equal(undefined);
    expect(sample(text, 'gms_chats_census_age_seconds')).to.be.within(4, 6);
  });

  it('counts config reloads and rejections', async () => {
    const before = await scrape();
    expect(sample(before, 'gms_config_changes_total{kind="service",outcome="loaded"}')).to.equal(2);
    await gw.writeService('sales.json', { ttl: -1 });
    await eventually(
      async () => sample(await scrape(), 'gms_config_changes_total{kind="service",outcome="rejected"}') === 1,
      3000,
      'a rejection',
    );
    await gw.writeService('sales.json', { ttl: 60 });
    await eventually(
      async () => sample(await scrape(), 'gms_config_changes_total{kind="service",outcome="loaded"}') === 3,
      3000,
      'a reload',
    );
  });

  it('counts the CometD clients connected now', async () => {
    expect(sample(await scrape(), 'gms_cometd_clients')).to.equal(0);
    const clients = ['ann', 'bob'].map((user) => {
      const client = new faye.Client(`${gw.url}/genesys/cometd`);
      client.setHeader('gms_user', user);
      client.disable('websocket');
      return client;
    });
    await Promise.all(
      clients.map(
        (c) =>
          new Promise<void>((resolve, reject) => void c.subscribe('/_genesys', () => undefined).then(() => resolve(), reject)),
      ),
    );
    expect(sample(await scrape(), 'gms_cometd_clients')).to.equal(2);
    clients[0].disconnect();
    await eventually(async () => sample(await scrape(), 'gms_cometd_clients') === 1, 3000, 'one client gone');
    clients[1].disconnect();
    await eventually(async () => sample(await scrape(), 'gms_cometd_clients') === 0, 3000, 'both clients gone');
    await closeFayeClients(clients);
  });

  it('shows the process memory', async () => {
    expect(sample(await scrape(), 'gms_process_memory_bytes{kind="heapUsed"}')).to.be.above(0);
  });

  it("shows the embedded store's disk use, its database and its write-ahead log", async () => {
    // The memory store of the other tests takes no disk: no figure.
    expect(sample(await scrape(), 'gms_store_disk_bytes{file="database"}')).to.equal(undefined);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gms-metrics-disk-'));
    const file = path.join(dir, 'data', 'sessions.sqlite');
    const onDisk = await startTestGateway({ env: { STORE_URL: `sqlite://${file}` } });
    try {
      await startCustomerChat(onDisk);
      const text = (await onDisk.get('/metrics')).body as string;
      // The checkpoints move pages from the log into the database file meanwhile: both exist, the file is never empty.
      expect(sample(text, 'gms_store_disk_bytes{file="database"}')).to.be.above(0);
      const wal = sample(text, 'gms_store_disk_bytes{file="wal"}');
      expect(wal).to.be.a('number').and.at.least(0);
    } finally {
      await onDisk.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('each gateway has its own figures, even in one process', async () => {
    const other = await startTestGateway();
    try {
      await startCustomerChat(gw);
      const mine = await scrapeUntil((t) => sample(t, 'gms_chats_live') === 1, 'the chat counted');
      const theirs = (await other.get('/metrics')).body as string;
      expect(sample(mine, 'gms_chats_live')).to.equal(1);
      expect(sample(theirs, 'gms_chats_live')).to.equal(0);
    } finally {
      await other.close();
    }
  });
});
