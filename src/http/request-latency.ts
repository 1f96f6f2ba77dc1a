// The request latency histogram, counted in plain numbers per series and written in the Prometheus text
// format when scraped, as prom-client writes a histogram: prom-client's own observe checks and hashes the
// labels at every call, a cost each request would pay (test/request-latency.test.ts compares the two).

export const LATENCY_NAME = 'gms_http_request_duration_seconds';
const HELP = 'Time to answer an HTTP request, by method and route pattern.';
/** Upper bounds of the buckets, in seconds. */
export const LATENCY_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** The latency of one method and route pattern. */
export class LatencySeries {
  /** Observations per bucket, not cumulated; the last counts those above every bound. */
  readonly counts: number[] = new Array<number>(LATENCY_BUCKETS.length + 1).fill(0);
  sum = 0;

  constructor(
    readonly method: string,
    readonly route: string,
  ) {}

  observe(seconds: number): void {
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]) i++;
    this.counts[i]++;
    this.sum += seconds;
  }
}

export class RequestLatency {
  private readonly series = new Map<string, LatencySeries>();

  /** The series of a method and route (one per pair, bounded as the routes are). */
  of(method: string, route: string): LatencySeries {
    const key = `${method} ${route}`;
    let series = this.series.get(key);
    if (!series) {
      series = new LatencySeries(method, route);
      this.series.set(key, series);
    }
    return series;
  }

  /** The histogram in the Prometheus text format (version 0.0.4), as prom-client's registry writes one. */
  text(): string {
    const lines = [`# HELP ${LATENCY_NAME} ${HELP}`, `# TYPE ${LATENCY_NAME} histogram`];
    for (const s of this.series.values()) {
      const labels = `method="${escapeLabel(s.method)}",route="${escapeLabel(s.route)}"`;
      let cumulated = 0;
      LATENCY_BUCKETS.forEach((bound, i) => {
        cumulated += s.counts[i];
        lines.push(`${LATENCY_NAME}_bucket{le="${bound}",${labels}} ${cumulated}`);
      });
      cumulated += s.counts[LATENCY_BUCKETS.length];
      lines.push(`${LATENCY_NAME}_bucket{le="+Inf",${labels}} ${cumulated}`);
      lines.push(`${LATENCY_NAME}_sum{${labels}} ${s.sum}`);
      lines.push(`${LATENCY_NAME}_count{${labels}} ${cumulated}`);
    }
    return lines.join('\n');
  }
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}
