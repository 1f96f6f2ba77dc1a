// The chats' outboxes in the store: each chat's pending notification lives in its session record
// (written with the events it tells of) and the `push-due` set finds them by due time. A node claims
// one (its due time moves past the claim, so no other node sends it meanwhile, and a node that dies
// with it leaves it due again), sends it outside any lock, then settles it: each step one atomic write.

import type { Op, Store } from '../store/store.ts';
import { indexOps, PUSH_DUE_SET, recordEventCount, sessionKey, SessionRecords } from '../chat/session-records.ts';
import type { PendingNotification, PushRegistration, PushRule, ServiceSession } from '../chat/types.ts';
import { isNotable, pendingFrom } from './outbox-rule.ts';

/** A notification taken for sending: the session as it stood (whole) and the claimed attempt. */
export interface Claimed {
  session: ServiceSession;
  registration: PushRegistration;
  pending: PendingNotification;
}

export type Settlement =
  /** Sent, telling of the events up to `upTo`: later notable events start the next notification. */
  | { kind: 'sent'; upTo: number }
  | { kind: 'retry'; at: number }
  /** Given up, or nothing the provider tells of: the notification goes, the registration stays. */
  | { kind: 'dropped' }
  /** The provider no longer knows the device: the registration goes. */
  | { kind: 'unregistered' };

export class Outbox {
  private readonly records: SessionRecords;

  constructor(
    private readonly store: Store,
    /** How long the store keeps a session past its expiry (ChatDomain's grace). */
    private readonly graceMs: number,
    private readonly rule: PushRule,
  ) {
    this.records = new SessionRecords(store);
  }

  /** Sessions with a notification due by `now`, soonest first. */
  due(now: number, limit: number): Promise<string[]> {
    return this.store.upTo(PUSH_DUE_SET, now, limit);
  }

  /** Takes the session's notification for one attempt until `now + leaseMs`, if it is due. */
  claim(sessionId: string, now: number, leaseMs: number): Promise<Claimed | undefined> {
    const owner = sessionKey(sessionId);
    return this.store.update<ServiceSession, Claimed | undefined>(owner, async (record) => {
      const push = record?.chat?.push;
      const pending = push?.pending;
      // The set said due and the record says otherwise: the set follows the record.
      if (!record || !push || !pending)
        return { result: undefined, also: [{ kind: 'remove', set: PUSH_DUE_SET, member: sessionId, owner }] };
      if (pending.dueAt > now)
        return { result: undefined, also: [{ kind: 'add', set: PUSH_DUE_SET, member: sessionId, score: pending.dueAt, owner }] };
      const claimed: PendingNotification = { ...pending, attempts: pending.attempts + 1, dueAt: now + leaseMs };
      const session = await this.records.assemble(record).catch(() => record);
      return {
        ...this.rewrite(record, { ...push, pending: claimed }, now),
        result: { session, registration: push, pending: claimed },
      };
    });
  }

  /** What came of an attempt; nothing changes if the notification was taken back meanwhile (the customer came back). */
  settle(sessionId: string, claimed: PendingNotification, settlement: Settlement, now: number): Promise<void> {
    return this.store.update<ServiceSession, void>(sessionKey(sessionId), async (record) => {
      const push = record?.chat?.push;
      if (!record || !push) return { result: undefined };
      if (push.pending?.id !== claimed.id) {
        return settlement.kind === 'sent'
          ? { ...this.rewrite(record, { ...push, sentAt: now }, now), result: undefined }
          : { result: undefined };
      }
      switch (settlement.kind) {
        case 'sent': {
          const next = await this.followUp(record, settlement.upTo, now);
          return { ...this.rewrite(record, { ...push, pending: next, sentAt: now }, now), result: undefined };
        }
        case 'retry':
          return {
            ...this.rewrite(record, { ...push, pending: { ...push.pending, dueAt: settlement.at } }, now),
            result: undefined,
          };
        case 'dropped':
          return { ...this.rewrite(record, { ...push, pending: undefined }, now), result: undefined };
        case 'unregistered':
          return { ...this.rewrite(record, undefined, now), result: undefined };
      }
    });
  }

  /** Notable events that came while the last notification was on its way start the next one. */
  private async followUp(record: ServiceSession, upTo: number, now: number): Promise<PendingNotification | undefined> {
    const chat = record.chat!;
    if (recordEventCount(chat) <= upTo) return undefined;
    const whole = await this.records.assemble(record).catch(() => record);
    const first = whole.chat!.events.find((e) => e.position > upTo && isNotable(e));
    return first ? pendingFrom(chat, first.position, now, now, this.rule) : undefined;
  }

  /** The record with the chat's registration replaced (or removed), its place in the due set with it, its expiry unchanged. */
  private rewrite(
    record: ServiceSession,
    push: PushRegistration | undefined,
    now: number,
  ): { write: ServiceSession; ttlMs: number; also: Op[] } {
    const chat = { ...record.chat! };
    if (!push) delete chat.push;
    else if (push.pending) chat.push = push;
    else {
      const { pending: _none, ...rest } = push;
      chat.push = rest;
    }
    const next: ServiceSession = { ...record, chat };
    return { write: next, ttlMs: Math.max(1000, record.expiresAt + this.graceMs - now), also: indexOps(record, next) };
  }
}
