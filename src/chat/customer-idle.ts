// When a chat whose customer is gone is warned, then ended (the service options customerIdleWarning and
// customerIdleEnd): pure rules on the chat record, read by the sweep to find chats due and by the state
// machine to decide under the chat's lock.

import type { Chat, CustomerIdleRule } from './types.ts';

/**
 * A customer call this close to the last one recorded is not written again (a poll stays free of writes):
 * a second, or a quarter of the warning time when that is shorter, so a customer polling is never warned.
 */
export function seenSlackMs(rule: CustomerIdleRule | undefined): number {
  return rule ? Math.min(1000, rule.warningSeconds * 250) : 1000;
}

export const IDLE_WARNING_TEXT = (endSeconds: number): string =>
  `The customer seems to have gone; the chat ends in ${endSeconds} s unless they come back.`;

/**
 * Since when the customer has been gone from a live chat, or undefined while they are there: a polling
 * customer from their last call; a CometD customer from when their last CometD client went (their HTTP
 * calls since count as presence too).
 */
export function customerGoneSince(chat: Chat): number | undefined {
  if (chat.state === 'ended') return undefined;
  const seen = chat.customerSeenAt ?? chat.startedAt;
  if (chat.notifyBy === 'comet') return chat.customerGoneAt === undefined ? undefined : Math.max(chat.customerGoneAt, seen);
  return seen;
}

/** What is due now for the customer's absence: the warning, the end, or nothing. */
export function idleStep(chat: Chat, rule: CustomerIdleRule | undefined, now: number): 'warn' | 'end' | undefined {
  if (!rule) return undefined;
  const since = customerGoneSince(chat);
  if (since === undefined) return undefined;
  if (chat.idleWarnedAt === undefined) return now - since >= rule.warningSeconds * 1000 ? 'warn' : undefined;
  return now - chat.idleWarnedAt >= rule.endSeconds * 1000 ? 'end' : undefined;
}
