// When a chat's change puts a notification in its outbox, pure: the chat's push registration after a
// command, decided inside the chat's atomic change (chat-machine.ts), so that the notification is
// written with the events it tells of, or not at all.

import type { Chat, ChatEvent, PendingNotification, PushRegistration, PushRule } from '../chat/types.ts';

/** The events worth waking a phone for: what the agent side says or does, never typing nor the customer's own. */
const NOTABLE: ReadonlySet<string> = new Set([
  'Message.Text',
  'Notice.Joined',
  'Notice.Left',
  'Notice.PushUrl',
  'Notice.Custom',
  'Notice.FileUploaded',
]);

/** What the agent side does that the customer sees (never a whisper or anything else for agents only). */
export function isNotable(event: ChatEvent): boolean {
  return event.partyType !== 'CLIENT' && event.visibility !== 'agents' && NOTABLE.has(event.type);
}

/**
 * Whether the customer is away as the chat stood before the command: an app that told of its
 * background state (/meta/disconnect, `awayPosition`) at once; a polling customer silent, or a CometD
 * customer with no client, for `rule.awayMs`.
 */
export function customerAway(chat: Chat, now: number, rule: PushRule): boolean {
  if (chat.awayPosition !== undefined) return true;
  const seen = chat.customerSeenAt ?? chat.startedAt;
  if (chat.notifyBy === 'comet')
    return chat.customerGoneAt !== undefined && now - Math.max(chat.customerGoneAt, seen) >= rule.awayMs;
  return now - seen >= rule.awayMs;
}

/** The notification for the notable events from `from` on, due once others may join it and the chat's last one is far enough behind. */
export function pendingFrom(
  chat: Chat,
  from: number,
  sentAt: number | undefined,
  now: number,
  rule: PushRule,
): PendingNotification {
  return {
    id: `${chat.chatSessionId}-${from}`,
    from,
    dueAt: Math.max(now + rule.coalesceMs, (sentAt ?? -Infinity) + rule.minIntervalMs),
    attempts: 0,
  };
}

/**
 * The registration after a command that added `events`: a customer's own call takes back a notification
 * not yet sent (they are looking); the first notable event while they are away starts one, and the next
 * ones join it (one notification per burst). `before` is the chat as stored, for the customer's presence.
 */
export function pushAfter(
  before: Chat,
  push: PushRegistration,
  events: ChatEvent[],
  customerCall: boolean,
  now: number,
  rule: PushRule | undefined,
): PushRegistration {
  if (customerCall) return push.pending ? { ...push, pending: undefined } : push;
  if (!rule || push.pending) return push;
  const first = events.find(isNotable);
  if (!first || !customerAway(before, now, rule)) return push;
  return { ...push, pending: pendingFrom(before, first.position, push.sentAt, now, rule) };
}
