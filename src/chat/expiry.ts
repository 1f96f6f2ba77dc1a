// The expiry sweep (spec §3) and the chat census: one pass over the session store ends the sessions
// whose time ran out, warns or ends the chats whose customer is gone, and counts the chats under way.
// With several nodes on one store, a lease key lets one node at a time do it; the census it takes is
// kept in the store for every node's /metrics.

import type { Store } from '../store/store.ts';
import { queueSet } from './session-records.ts';
import { idleStep } from './customer-idle.ts';
import type { Clock, CustomerIdleRule, ServiceSession } from './types.ts';

/** Chats under way, as the last sweep found them. */
export interface ChatCensus {
  /** Chats waiting for an agent, by endpoint. */
  waiting: Record<string, number>;
  /** Chats with an agent in them. */
  connected: number;
  /** Chats under way by service: waiting for an agent, and with one (admin page). */
  services?: Record<string, { waiting: number; connected: number }>;
  /** Chats each agent is in now (admin page: an agent's load). */
  agents?: Record<string, number>;
  /** When the census was taken (ms since the epoch). */
  at: number;
  /** The node that took it. */
  node: string;
}

export interface SweepResult {
  expired: number;
  census: ChatCensus;
}

/** What the sweep needs of the chat domain: end and remove one session whose time ran out; repair a queue. */
export interface SessionExpirer {
  /** False when the session was gone or had new activity. */
  expire(sessionId: string): Promise<boolean>;
  /** Puts a chat in, or takes it out of, an endpoint's queue as its session says now. */
  requeue(endpoint: string, chatSessionId: string): Promise<void>;
  /** Warns, or ends, a chat whose customer is gone too long, if that is still due under its lock. */
  idle(sessionId: string): Promise<void>;
}

export interface ExpirySweeperOptions {
  store: Store;
  clock: Clock;
  sessions: SessionExpirer;
  /** Names this node in the lease and the census. */
  node: string;
  /** How often the lease holder sweeps, in milliseconds. */
  intervalMs: number;
  /** A service's customerIdleWarning / customerIdleEnd; undefined: its customers are never timed out. */
  idleRule?: (service: string) => CustomerIdleRule | undefined;
  /** The endpoints whose queues are checked against the sessions (besides those with chats waiting). */
  endpoints?: () => string[];
  /** This node took the lease (true) or gave it up or lost it (false). */
  onLeadChange?: (leading: boolean) => void;
  onSweep?: (result: SweepResult) => void;
  /** A tick failed (the store did not answer); `onReached` follows the next tick that reaches the store. */
  onError?: (err: unknown) => void;
  onReached?: () => void;
}

interface Lease {
  node: string;
  until: number;
}

export const SWEEP_LEASE_KEY = 'sweep-lease';
export const CENSUS_KEY = 'chat-census';
/** Session keys are `session:<id>` (chat-service.ts); backends may put their namespace in front. */
const SESSION_PREFIX = 'session:';

export class ExpirySweeper {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly sessions: SessionExpirer;
  private readonly node: string;
  private readonly intervalMs: number;
  /**
   * The holder renews the lease every interval; a holder that died stops renewing and its lease runs
   * out (by the store's own expiry, so nodes' clocks need not agree) about one interval later.
   */
  private readonly leaseMs: number;
  private leading = false;
  private sweeping = false;
  private stopped = false;
  /** Ticks under way (a lease renewal, perhaps a pass), awaited by stop(). */
  private readonly ticks = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ExpirySweeperOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.sessions = options.sessions;
    this.node = options.node;
    this.intervalMs = options.intervalMs;
    this.leaseMs = options.intervalMs + Math.max(1000, Math.ceil(options.intervalMs / 2));
  }

  /** Sweeps now and every interval while this node holds the lease. */
  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
    this.tick();
  }

  /** Stops sweeping, waits for a sweep under way, and hands the lease back so another node takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all(this.ticks);
    if (!this.leading) return;
    this.setLeading(false);
    await this.store
      .update<Lease, void>(SWEEP_LEASE_KEY, (lease) => (lease?.node === this.node ? { remove: true, result: undefined } : { result: undefined }))
      .catch(() => undefined);
  }

  /** The last census any node took, if one is recent enough to still be kept. */
  census(): Promise<ChatCensus | undefined> {
    return this.store.get<ChatCensus>(CENSUS_KEY);
  }

  /**
   * One pass: ends and removes every session whose time to live has run out, warns or ends the chats
   * whose customer is gone (the service's customerIdleWarning / customerIdleEnd), counts the chats still
   * under way, checks each queue holds exactly the chats waiting in it, and stores that census for
   * every node to report.
   */
  async sweep(): Promise<SweepResult> {
    const now = this.clock.now();
    const waiting = new Map<string, Set<string>>();
    let connected = 0;
    const services = Object.create(null) as Record<string, { waiting: number; connected: number }>;
    const agents = Object.create(null) as Record<string, number>;
    // Due keys are gathered first and removed after: deleting during a paged scan would skip entries.
    // The scan covers every key so that the store also drops entries whose own time to live ran out
    // while no gateway was running (the backends delete those as they meet them).
    const due: string[] = [];
    /** Chats whose customer has been gone long enough for a warning or the end (customer-idle.ts). */
    const idle: string[] = [];
    let seen = 0;
    for await (const [key, value] of this.store.entries<unknown>('')) {
      const at = key.indexOf(SESSION_PREFIX);
      if (at >= 0) {
        const session = value as ServiceSession;
        const chat = session.chat;
        if (session.expiresAt <= now) due.push(key.slice(at + SESSION_PREFIX.length));
        else if (chat?.state === 'waiting' || chat?.state === 'connected') {
          if (idleStep(chat, this.options.idleRule?.(session.service), now)) idle.push(session.id);
          const counts = (services[session.service] ??= { waiting: 0, connected: 0 });
          if (chat.state === 'waiting') {
            waiting.set(chat.endpoint, (waiting.get(chat.endpoint) ?? new Set()).add(chat.chatSessionId));
            counts.waiting++;
          } else {
            connected++;
            counts.connected++;
            for (const agent of chat.agents) agents[agent.id] = (agents[agent.id] ?? 0) + 1;
          }
        }
      }
      // Thousands of sessions are read in one pass: let requests in between, so that polls keep their latency.
      if (++seen % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    let expired = 0;
    for (const id of due) if (await this.sessions.expire(id)) expired++;
    for (const id of idle) await this.sessions.idle(id);
    for (const endpoint of new Set([...(this.options.endpoints?.() ?? []), ...waiting.keys()])) {
      await this.repairQueue(endpoint, waiting.get(endpoint) ?? new Set());
    }
    const counts = Object.fromEntries([...waiting].map(([endpoint, ids]) => [endpoint, ids.size]));
    const census: ChatCensus = { waiting: counts, connected, services: { ...services }, agents: { ...agents }, at: now, node: this.node };
    // Kept for a few leases: when no node sweeps any more, the figure disappears rather than lie.
    await this.store.set(CENSUS_KEY, census, 3 * this.leaseMs);
    return { expired, census };
  }

  /**
   * A queue holds exactly its endpoint's waiting chats, as every change writes both together; what a
   * session left when its store TTL ran out with no node sweeping (or a store written by an earlier
   * version) is repaired here. Chats that changed since the scan read them are checked again under
   * their lock, so a chat started or taken meanwhile stays as it is.
   */
  private async repairQueue(endpoint: string, scanned: Set<string>): Promise<void> {
    const members = new Set(await this.store.members(queueSet(endpoint)));
    for (const id of members) if (!scanned.has(id)) await this.sessions.requeue(endpoint, id);
    for (const id of scanned) if (!members.has(id)) await this.sessions.requeue(endpoint, id);
  }

  private tick(): void {
    const work = (async () => {
      if (this.stopped) return;
      const mine = await this.holdLease();
      this.options.onReached?.();
      if (!mine) return;
      // A pass that outlasts the interval keeps the lease (renewed above) and is not run twice at once.
      if (this.sweeping) return;
      this.sweeping = true;
      try {
        this.options.onSweep?.(await this.sweep());
      } finally {
        this.sweeping = false;
      }
    })()
      .catch((err: unknown) => this.options.onError?.(err))
      .finally(() => this.ticks.delete(work));
    this.ticks.add(work);
  }

  /** Takes or renews the lease; false while another node holds it. */
  private async holdLease(): Promise<boolean> {
    const mine = await this.store.update<Lease, boolean>(SWEEP_LEASE_KEY, (lease) => {
      if (lease && lease.node !== this.node) return { result: false };
      return { write: { node: this.node, until: this.clock.now() + this.leaseMs }, ttlMs: this.leaseMs, result: true };
    });
    this.setLeading(mine);
    return mine;
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    this.options.onLeadChange?.(leading);
  }
}
