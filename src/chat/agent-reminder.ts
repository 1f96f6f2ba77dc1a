// When the agents of a chat are reminded that the customer waits for an answer (the service option
// agentTimeoutNotification): pure rules on the chat record, read by the session's indices (the sweep
// finds the chats due) and by the state machine (under the chat's lock).

import type { Chat } from './types.ts';

/** What the agents read (agents only; the customer never sees it). */
export const REMINDER_TEXT = (customer: string, seconds: number): string =>
  `${customer} has been waiting ${seconds} s for an answer.`;

/**
 * Since when the customer of a connected chat has waited for an answer and the agents have not been
 * reminded of it yet; undefined when nothing is due (answered, reminded, waiting in a queue, ended).
 */
export function unansweredSince(chat: Chat): number | undefined {
  if (chat.state !== 'connected' || chat.agentRemindedAt !== undefined) return undefined;
  return chat.awaitingAnswerSince;
}

/** Whether the reminder is due now under a rule of `seconds`. */
export function reminderDue(chat: Chat, seconds: number | undefined, now: number): boolean {
  const since = unansweredSince(chat);
  return seconds !== undefined && since !== undefined && now - since >= seconds * 1000;
}
