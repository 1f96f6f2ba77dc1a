// Operator visibility: GET /metrics in the Prometheus text format. Requests by route and status, their
// latency, live and waiting chats, CometD clients, config reloads; one prom-client Registry per gateway
// (never the global one), so several gateways can live in one process.

import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { Counter, Gauge, Registry } from 'prom-client';
import type { ChatCensus, SweepResult } from '../chat/expiry.ts';
import { RequestLatency, type LatencySeries } from './request-latency.ts';

export interface MetricsSources {
  /** The census the expiry sweep last stored (one store read, whichever node took it). */
  chats: () => Promise<ChatCensus | undefined>;
  /** CometD clients connected now. */
  cometdClients: () => number;
  /** The embedded store's bytes on disk now (absent for a store kept elsewhere). */
  storeDisk?: () => { database: number; wal: number };
}

/** One request series: its latency, and its requests not yet added to the counter. */
interface Series {
  latency: LatencySeries;
  requests: { inc(n: number): void };
  unscraped: number;
}

const METHODS = new Set(['GET', 'POST', 'OPTIONS', 'HEAD', 'PUT', 'DELETE', 'PATCH']);

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  /** Kept apart from the registry, which writes it at a scrape (request-latency.ts). */
  private readonly latency = new RequestLatency();
  private readonly configChanges: Counter<'kind' | 'outcome'>;
  private readonly sweeps: Counter;
  private readonly sweepExpired: Counter;
  private readonly pushes: Counter<'provider' | 'outcome'>;
  private readonly series = new Map<string, Series>();

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    // Counted in plain numbers per series and added to the counter when it is read: a scrape sees every
    // request answered before it, and a request does not pay for prom-client's label checks.
    const series = this.series;
    this.requests = new Counter({
      name: 'gms_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      registers,
      collect() {
        for (const s of series.values()) {
          if (s.unscraped > 0) s.requests.inc(s.unscraped);
          s.unscraped = 0;
        }
      },
    });
    this.configChanges = new Counter({
      name: 'gms_config_changes_total',
      help: 'Config files applied by the watchers, by kind (service, endpoint) and outcome (loaded, rejected, removed).',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    new Gauge({
      name: 'gms_cometd_clients',
      help: 'CometD clients connected now (handshaken, not yet disconnected or timed out).',
      registers,
      collect() {
        this.set(sources.cometdClients());
      },
    });

    // prom-client's default metrics start an event-loop monitor per registry; memory is what operators need.
    new Gauge({
      name: 'gms_process_memory_bytes',
      help: 'Memory of the gateway process: rss, heapUsed, heapTotal, external.',
      labelNames: ['kind'],
      registers,
      collect() {
        const m = process.memoryUsage();
        for (const kind of ['rss', 'heapUsed', 'heapTotal', 'external'] as const) this.set({ kind }, m[kind]);
      },
    });

    const storeDisk = sources.storeDisk;
    if (storeDisk) {
      new Gauge({
        name: 'gms_store_disk_bytes',
        help: 'Disk taken by the embedded session store: its database file and its write-ahead log (wal).',
        labelNames: ['file'],
        registers,
        collect() {
          const { database, wal } = storeDisk();
          this.set({ file: 'database' }, database);
          this.set({ file: 'wal' }, wal);
        },
      });
    }

    this.sweeps = new Counter({
      name: 'gms_expiry_sweeps_total',
      help: 'Expiry sweeps this node ran (only the node holding the sweep lease sweeps).',
      registers,
    });
    this.sweepExpired = new Counter({
      name: 'gms_sessions_expired_total',
      help: 'Sessions this node ended and removed because their time to live ran out.',
      registers,
    });

    this.pushes = new Counter({
      name: 'gms_push_notifications_total',
      help: 'Push notification attempts this node made, by provider and outcome (sent, failed, retried, dropped).',
      labelNames: ['provider', 'outcome'],
      registers,
    });

    // The chat gauges report the cluster-wide census of the last sweep: one store read per scrape, shared
    // by the gauges. A store that cannot answer leaves them out rather than failing the whole scrape.
    let census: Promise<ChatCensus | undefined> | undefined;
    const readCensus = (): Promise<ChatCensus | undefined> =>
      (census ??= sources
        .chats()
        .catch(() => undefined)
        .finally(() => setImmediate(() => (census = undefined))));
    new Gauge({
      name: 'gms_chats_live',
      help: 'Chats under way (waiting for an agent or connected), not ended or expired, at the last expiry sweep.',
      registers,
      async collect() {
        const c = await readCensus();
        this.reset();
        if (c) this.set(c.connected + Object.values(c.waiting).reduce((a, b) => a + b, 0));
      },
    });
    new Gauge({
      name: 'gms_chats_waiting',
      help: 'Chats waiting for an agent, by interaction endpoint, at the last expiry sweep.',
      labelNames: ['endpoint'],
      registers,
      async collect() {
        const c = await readCensus();
        this.reset();
        for (const [endpoint, n] of Object.entries(c?.waiting ?? {})) this.set({ endpoint }, n);
      },
    });
    new Gauge({
      name: 'gms_chats_census_age_seconds',
      help: 'How old the chat figures are: seconds since the last expiry sweep (absent before the first).',
      registers,
      async collect() {
        const c = await readCensus();
        this.reset();
        if (c) this.set(Math.max(0, (Date.now() - c.at) / 1000));
      },
    });
  }

  /** Counts and times one answered request (`started`: performance.now() at its arrival); the route is the matched pattern, so labels stay few. */
  observe(ctx: Context, started: number): void {
    const method = METHODS.has(ctx.method) ? ctx.method : 'other';
    const matched: unknown = ctx._matchedRoute;
    const route = typeof matched === 'string' ? matched : 'unmatched';
    const series = this.seriesOf(method, route, ctx.status);
    series.latency.observe((performance.now() - started) / 1000);
    series.unscraped++;
  }

  /**
   * The labelled series of one method, route pattern and status, looked up once: prom-client would
   * otherwise sort and hash the label names on every request. Bounded, as the labels are.
   */
  private seriesOf(method: string, route: string, status: number): Series {
    const key = `${method} ${status} ${route}`;
    let series = this.series.get(key);
    if (!series) {
      series = {
        latency: this.latency.of(method, route),
        requests: this.requests.labels(method, route, String(status)),
        unscraped: 0,
      };
      this.series.set(key, series);
    }
    return series;
  }

  /** For ExpirySweeper's onSweep. */
  sweepDone(result: SweepResult): void {
    this.sweeps.inc();
    this.sweepExpired.inc(result.expired);
  }

  /** For PushDrainer's onOutcome. */
  pushed(provider: string, outcome: 'sent' | 'failed' | 'retried' | 'dropped'): void {
    this.pushes.inc({ provider, outcome });
  }

  /** For ConfigWatcher's onChange. */
  configChanged(kind: string): (event: { outcome: 'loaded' | 'rejected' | 'removed' }) => void {
    return ({ outcome }) => this.configChanges.inc({ kind, outcome });
  }

  /** `guard` decides who may scrape (the admin doors' access). */
  routes(guard: (ctx: Context, next: Next) => Promise<void>): Router {
    const router = new Router();
    router.get('/metrics', guard, async (ctx) => {
      ctx.type = this.registry.contentType;
      ctx.body = `${await this.registry.metrics()}\n${this.latency.text()}\n`;
    });
    return router;
  }
}
