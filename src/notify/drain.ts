// Drains the outboxes in the background: every interval it takes the notifications due, claims each,
// sends it through its provider outside any lock (a slow provider holds no chat call), and settles it:
// sent, tried again later with exponential backoff, dropped, or the device unregistered. Every node
// drains; a claim keeps two nodes from sending one notification at once.

import type { Logger } from '../log.ts';
import type { Clock, PushRegistration } from '../chat/types.ts';
import { isNotable } from './outbox-rule.ts';
import type { Claimed, Outbox, Settlement } from './outbox.ts';
import type { Notification, SendOutcome } from './notification.ts';
import type { ProviderDefinition } from './provider-file.ts';
import { notificationText, templatesFor } from './templates.ts';

/** What became of one attempt, for /metrics. */
export type Outcome = 'sent' | 'failed' | 'retried' | 'dropped';

export interface RetryPolicy {
  /** The first retry waits this long; each next one twice as long, up to `maxMs`. */
  baseMs: number;
  maxMs: number;
  /** Attempts in all before a notification is given up. */
  maxAttempts: number;
}

export interface DrainOptions {
  outbox: Outbox;
  clock: Clock;
  /** The providers loaded now (push.d/), by name order. */
  providers: () => ProviderDefinition[];
  /** Sends one notification through a provider; never throws. `stopping` aborts it (the gateway stops). */
  send: (n: Notification, provider: ProviderDefinition, stopping: AbortSignal) => Promise<SendOutcome>;
  intervalMs: number;
  /** How long a claim keeps other nodes off a notification being sent. */
  claimMs: number;
  retry: RetryPolicy;
  /** Notifications sent at once by this node, at most. */
  concurrency?: number;
  onOutcome?: (provider: string, outcome: Outcome) => void;
  /** The store did not answer (an outage: logged once, OutageLog); `onReached` follows the next pass that reaches it. */
  onError: (err: unknown) => void;
  onReached: () => void;
  log: Logger;
}

/** The provider of a registration: the one it names, else the first serving its push_notification_type. */
export function providerFor(providers: ProviderDefinition[], registration: PushRegistration): ProviderDefinition | undefined {
  if (registration.provider) return providers.find((p) => p.name === registration.provider);
  return providers.find((p) => p.types.includes(registration.type));
}

/** The wait before attempt `attempts + 1`: doubling from baseMs, capped, with up to a quarter off at random so retries spread. */
export function backoffMs(attempts: number, policy: RetryPolicy, random = Math.random()): number {
  const full = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(full * (1 - 0.25 * random));
}

export class PushDrainer {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly inFlight = new Map<string, Promise<void>>();
  private ticking: Promise<void> | undefined;
  /** Aborts the attempts under way when the gateway stops: they are settled as to be tried again. */
  private readonly stopping = new AbortController();

  constructor(private readonly o: DrainOptions) {}

  start(): void {
    this.schedule();
  }

  /** Stops taking notifications, cuts the attempts under way short and waits for them to be settled. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.stopping.abort();
    await this.ticking;
    await Promise.all(this.inFlight.values());
  }

  /** Resolves once nothing is being sent (tests). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight.values());
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick()
        .catch((err: unknown) => this.o.onError(err))
        .finally(() => this.schedule());
    }, this.o.intervalMs);
  }

  private async tick(): Promise<void> {
    const room = (this.o.concurrency ?? 16) - this.inFlight.size;
    if (room <= 0) return;
    const due = await this.o.outbox.due(this.o.clock.now(), room + this.inFlight.size);
    this.o.onReached();
    for (const id of due) {
      if (this.stopped || this.inFlight.size >= (this.o.concurrency ?? 16)) break;
      if (this.inFlight.has(id)) continue;
      // A claim or settlement the store did not take leaves the notification due again (after the claim).
      const attempt = this.deliver(id)
        .catch((err: unknown) => this.o.onError(err))
        .finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, attempt);
    }
  }

  private async deliver(sessionId: string): Promise<void> {
    const { outbox, clock } = this.o;
    const claimed = await outbox.claim(sessionId, clock.now(), this.o.claimMs);
    if (!claimed) return;
    const provider = providerFor(this.o.providers(), claimed.registration);
    const settle = (settlement: Settlement): Promise<void> => outbox.settle(sessionId, claimed.pending, settlement, clock.now());
    if (!provider || !provider.enabled) {
      this.count(provider?.name ?? '(none)', 'dropped');
      this.o.log.debug(
        { serviceId: sessionId, type: claimed.registration.type, provider: claimed.registration.provider },
        provider
          ? 'push notification dropped: its provider is disabled'
          : 'push notification dropped: no provider serves its type',
      );
      return settle({ kind: 'dropped' });
    }
    const notification = build(claimed, provider);
    if (!notification) return settle({ kind: 'dropped' });
    const outcome = await this.o.send(notification, provider, this.stopping.signal);
    const attempts = claimed.pending.attempts;
    switch (outcome.kind) {
      case 'sent':
        this.count(provider.name, 'sent');
        return settle({ kind: 'sent', upTo: notification.transcriptPosition });
      case 'unregistered':
        this.count(provider.name, 'dropped');
        this.o.log.info(
          { serviceId: sessionId, provider: provider.name, reason: outcome.reason },
          'push device unregistered by its provider: dropped from the chat',
        );
        return settle({ kind: 'unregistered' });
      case 'failed':
        this.count(provider.name, 'failed');
        this.o.log.warn(
          { serviceId: sessionId, provider: provider.name, reason: outcome.reason },
          'push notification refused by its provider',
        );
        return settle({ kind: 'dropped' });
      case 'retry': {
        if (attempts >= this.o.retry.maxAttempts) {
          this.count(provider.name, 'failed');
          this.o.log.warn(
            { serviceId: sessionId, provider: provider.name, reason: outcome.reason, attempts },
            'push notification given up after its last attempt',
          );
          return settle({ kind: 'dropped' });
        }
        this.count(provider.name, 'retried');
        const wait = Math.max(backoffMs(attempts, this.o.retry), outcome.afterMs ?? 0);
        return settle({ kind: 'retry', at: clock.now() + Math.min(wait, this.o.retry.maxMs) });
      }
    }
  }

  private count(provider: string, outcome: Outcome): void {
    this.o.onOutcome?.(provider, outcome);
  }
}

/** The notification of a claimed attempt through `provider`, or none when none of its events is one the provider tells of. */
function build(claimed: Claimed, provider: ProviderDefinition): Notification | undefined {
  const { session, registration, pending } = claimed;
  const chat = session.chat!;
  const events = chat.events.filter((e) => e.position >= pending.from && isNotable(e) && provider.events.includes(e.type));
  if (events.length === 0) return undefined;
  const { title, body } = notificationText(
    templatesFor(provider.messages, provider.defaultLanguage, registration.language),
    events,
  );
  return {
    id: pending.id,
    serviceId: session.id,
    chatSessionId: chat.chatSessionId,
    registration,
    title,
    body,
    events,
    startedAt: chat.startedAt,
    transcriptPosition: chat.events.length,
    ended: chat.state === 'ended',
  };
}
