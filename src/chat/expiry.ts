// The expiry sweep (spec §3) and the chat census. Each pass reads only the due part of the expiry index
// (sessions by expiresAt, written with every session change) and ends those sessions, and takes the
// census from set sizes: its cost does not grow with the number of chats. A full scan of the store,
// far less often (`scanIntervalMs`), repairs queues behind a session lost with no node sweeping and
// counts the chats each agent is in (the one figure no set gives). Chats whose customer is gone too long
// (customerIdleWarning / customerIdleEnd) are the due parts of each such service's `away:` and `warned:`
// sets, read like the expiry index. With several nodes on one store,
// a lease key lets one node at a time do it; the census is kept in the store for every node's /metrics.

import type { Store } from '../store/store.ts';
import {
  awaySet,
  CONNECTED_SET,
  endpointConnectedSet,
  EXPIRY_SET,
  queueSet,
  serviceConnectedSet,
  serviceWaitingSet,
  unansweredSet,
  warnedSet,
} from './session-records.ts';
import type { Clock, CustomerIdleRule, ServiceSession } from './types.ts';

/** Chats under way, as the last sweep found them. */
export interface ChatCensus {
  /** Chats waiting for an agent, by endpoint. */
  waiting: Record<string, number>;
  /** Chats with an agent in them. */
  connected: number;
  /** Chats under way by service: waiting for an agent, and with one (admin page). */
  services?: Record<string, { waiting: number; connected: number }>;
  /** Chats each agent is in (admin page: an agent's load), as of the last full scan (`scannedAt`). */
  agents?: Record<string, number>;
  /** When the last full scan was taken (the agents' figures). */
  scannedAt?: number;
  /** When the census was taken (ms since the epoch). */
  at: number;
  /** The node that took it. */
  node: string;
}

export interface SweepResult {
  expired: number;
  census: ChatCensus;
}

/** What the sweep needs of the chat domain: end and remove one session whose time ran out; repair a set. */
export interface SessionExpirer {
  /** False when the session was gone or had new activity. */
  expire(sessionId: string): Promise<boolean>;
  /** Puts a chat in, or takes it out of, a set derived from its session (a queue, a census set), as its session says now. */
  repairMember(set: string, chatSessionId: string): Promise<void>;
  /** Warns, or ends, a chat whose customer is gone too long (found in `set`), if that is still due under its lock. */
  idle(sessionId: string, set: string): Promise<void>;
  /** Reminds the agents of a customer waiting for an answer, if that is still due under its lock. */
  remind(sessionId: string, set: string): Promise<void>;
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
  /** A service's agentTimeoutNotification (seconds); undefined: its agents are never reminded. */
  reminderSeconds?: (service: string) => number | undefined;
  /** The endpoints whose queues are counted and checked (besides those the last full scan met). */
  endpoints?: () => string[];
  /** The services whose chats are counted (besides those the last full scan met). */
  services?: () => string[];
  /** How often the lease holder also scans the whole store (queue repair, agents' figures); 60 intervals by default. */
  scanIntervalMs?: number;
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
/** Due sessions read from the expiry index at a time. */
const DUE_PAGE = 100;

/** What a full scan of the store found. */
interface Scan {
  at: number;
  endpoints: Set<string>;
  services: Set<string>;
  agents: Record<string, number>;
}

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
  private readonly scanIntervalMs: number;
  private lastScan: Scan | undefined;
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
    this.scanIntervalMs = options.scanIntervalMs ?? 60 * options.intervalMs;
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
      .update<Lease, void>(SWEEP_LEASE_KEY, (lease) =>
        lease?.node === this.node ? { remove: true, result: undefined } : { result: undefined },
      )
      .catch(() => undefined);
  }

  /** The last census any node took, if one is recent enough to still be kept. */
  census(): Promise<ChatCensus | undefined> {
    return this.store.get<ChatCensus>(CENSUS_KEY);
  }

  /**
   * One pass: ends and removes every session whose time to live has run out (the due part of the
   * expiry index, a page at a time), counts the chats still under way from the sets' sizes, and stores
   * that census for every node to report. Every `scanIntervalMs` (and on the first pass) it also scans
   * the whole store: see `scan`.
   */
  async sweep(): Promise<SweepResult> {
    const now = this.clock.now();
    const expired = await this.expireDue(now);
    if (!this.lastScan || now - this.lastScan.at >= this.scanIntervalMs) this.lastScan = await this.scan(now);
    const scan = this.lastScan;
    for (const service of new Set([...(this.options.services?.() ?? []), ...scan.services])) {
      const remindAfter = this.options.reminderSeconds?.(service);
      if (remindAfter !== undefined)
        await this.eachDue(unansweredSet(service), now - remindAfter * 1000, (id) =>
          this.sessions.remind(id, unansweredSet(service)),
        );
      const rule = this.options.idleRule?.(service);
      if (!rule) continue;
      for (const [set, since] of [
        [awaySet(service), rule.warningSeconds],
        [warnedSet(service), rule.endSeconds],
      ] as const)
        await this.eachDue(set, now - since * 1000, (id) => this.sessions.idle(id, set));
    }
    const waiting = Object.create(null) as Record<string, number>;
    for (const endpoint of new Set([...(this.options.endpoints?.() ?? []), ...scan.endpoints])) {
      const n = await this.store.count(queueSet(endpoint));
      if (n > 0) waiting[endpoint] = n;
    }
    const services = Object.create(null) as Record<string, { waiting: number; connected: number }>;
    for (const service of new Set([...(this.options.services?.() ?? []), ...scan.services])) {
      const counts = {
        waiting: await this.store.count(serviceWaitingSet(service)),
        connected: await this.store.count(serviceConnectedSet(service)),
      };
      if (counts.waiting > 0 || counts.connected > 0) services[service] = counts;
    }
    const connected = await this.store.count(CONNECTED_SET);
    const census: ChatCensus = {
      waiting,
      connected,
      services: { ...services },
      agents: { ...scan.agents },
      scannedAt: scan.at,
      at: now,
      node: this.node,
    };
    // Kept for a few leases: when no node sweeps any more, the figure disappears rather than lie.
    await this.store.set(CENSUS_KEY, census, 3 * this.leaseMs);
    return { expired, census };
  }

  /** Ends the sessions the expiry index says are due, each under its lock in one write that also takes it out of the index. */
  private async expireDue(now: number): Promise<number> {
    let expired = 0;
    await this.eachDue(EXPIRY_SET, now, async (id) => {
      if (await this.sessions.expire(id)) expired++;
    });
    return expired;
  }

  /** Hands each member of `set` scored `maxScore` or less to `fn`, once, a page at a time. */
  private async eachDue(set: string, maxScore: number, fn: (id: string) => Promise<unknown>): Promise<void> {
    // Each one handled leaves the due range (or was found changed): a page met again means no progress.
    const met = new Set<string>();
    for (;;) {
      const page = (await this.store.upTo(set, maxScore, DUE_PAGE)).filter((id) => !met.has(id));
      if (page.length === 0) return;
      for (const id of page) {
        met.add(id);
        await fn(id);
      }
      // Many due at once: let requests in between pages, so that polls keep their latency.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /**
   * The full scan, rare: it finds the endpoints and services that have chats (their queues and counts
   * are then read every pass), counts the chats each agent is in, repairs the queues (see `repairQueue`),
   * and lets the store drop entries whose own time to live ran out while no gateway was running (the
   * backends delete those as they meet them).
   */
  private async scan(now: number): Promise<Scan> {
    // The chats each set derived from the sessions should hold, as the scan finds them.
    const expected = new Map<string, Set<string>>([[CONNECTED_SET, new Set()]]);
    const expect = (set: string, chatSessionId: string): void =>
      void (expected.get(set) ?? expected.set(set, new Set()).get(set)!).add(chatSessionId);
    const endpoints = new Set(this.options.endpoints?.() ?? []);
    const services = new Set(this.options.services?.() ?? []);
    const agents = Object.create(null) as Record<string, number>;
    let seen = 0;
    for await (const [key, value] of this.store.entries<unknown>('')) {
      const at = key.indexOf(SESSION_PREFIX);
      if (at >= 0) {
        const session = value as ServiceSession;
        const chat = session.chat;
        if (session.expiresAt > now && (chat?.state === 'waiting' || chat?.state === 'connected')) {
          services.add(session.service);
          if (chat.state === 'waiting') {
            endpoints.add(chat.endpoint);
            expect(queueSet(chat.endpoint), chat.chatSessionId);
            expect(serviceWaitingSet(session.service), chat.chatSessionId);
          } else {
            expect(CONNECTED_SET, chat.chatSessionId);
            expect(serviceConnectedSet(session.service), chat.chatSessionId);
            expect(endpointConnectedSet(chat.endpoint), chat.chatSessionId);
            for (const agent of chat.agents) agents[agent.id] = (agents[agent.id] ?? 0) + 1;
          }
        }
      }
      // Thousands of sessions are read in one pass: let requests in between, so that polls keep their latency.
      if (++seen % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const sets = new Set([...expected.keys(), ...[...endpoints].flatMap((e) => [queueSet(e), endpointConnectedSet(e)])]);
    for (const service of services) sets.add(serviceWaitingSet(service)).add(serviceConnectedSet(service));
    for (const set of sets) await this.repairSet(set, expected.get(set) ?? new Set());
    return { at: now, endpoints, services, agents };
  }

  /**
   * A queue (or census set) holds exactly the chats its sessions say, as every change writes both
   * together; what a session left when its store TTL ran out with no node sweeping is repaired here. Chats that changed since the scan read them are checked
   * again under their lock, so a chat started or taken meanwhile stays as it is.
   */
  private async repairSet(set: string, scanned: Set<string>): Promise<void> {
    const members = new Set(await this.store.members(set));
    for (const id of members) if (!scanned.has(id)) await this.sessions.repairMember(set, id);
    for (const id of scanned) if (!members.has(id)) await this.sessions.repairMember(set, id);
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
