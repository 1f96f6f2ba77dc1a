// The chat response of spec §2: the one place where chat state becomes the wire's strings and
// five-string event arrays. Used by the poll routes and the CometD pushes alike.

import type { Chat, ChatEvent, ServiceSession } from './types.ts';

export type WireEvent = [type: string, nickname: string, text: string, secondsSinceStart: string, partyType: string];

export interface ChatResponse {
  chatIxnState: 'CONNECTED' | 'TRANSCRIPT' | 'DISCONNECTED';
  chatSessionId: string;
  transcriptPosition: string;
  chatServiceMessage: string;
  startedAt: string;
  transcriptToShow: WireEvent[];
  [verbose: string]: unknown;
}

export const CHAT_SERVICE_MESSAGE = 'Chat service is available';

/** ISO 8601 to the second, as GMS writes it (`2026-11-24T19:49:03Z`). */
export function isoSeconds(ms: number): string {
  const second = Math.floor(ms / 1000);
  let iso = recentIso.get(second);
  if (iso === undefined) {
    iso = new Date(second * 1000).toISOString().replace('.000Z', 'Z');
    if (recentIso.size >= RECENT_ISO_MAX) recentIso.clear();
    recentIso.set(second, iso);
  }
  return iso;
}

/** isoSeconds' recent answers: every poll of a chat formats the same startedAt again. Bounded. */
const recentIso = new Map<number, string>();
const RECENT_ISO_MAX = 10_000;

/**
 * The event and party types of Chat API v1. v1 clients map them to enums (the public Android client
 * has one per list), so an event of any other kind is left out of their transcript, and a party of
 * another kind is shown as EXTERNAL, as GMS shows system parties.
 */
export const V1_EVENT_TYPES: ReadonlySet<string> = new Set([
  'Message.Text',
  'Notice.Joined',
  'Notice.Left',
  'Notice.TypingStarted',
  'Notice.TypingStopped',
  'Notice.PushUrl',
  'Notice.Custom',
]);
export const V1_PARTY_TYPES: ReadonlySet<string> = new Set(['CLIENT', 'AGENT', 'SUPERVISOR', 'EXTERNAL']);

/** Whether a v1 customer is shown the event: of a v1 type, and not for the agents only (whispers, silent parties). */
export function forCustomer(event: ChatEvent): boolean {
  return V1_EVENT_TYPES.has(event.type) && event.visibility !== 'agents';
}

export function toWireEvent(event: ChatEvent, startedAt: number): WireEvent {
  const seconds = Math.max(0, Math.floor(event.at / 1000) - Math.floor(startedAt / 1000));
  return [
    event.type,
    event.nickname,
    event.text,
    String(seconds),
    V1_PARTY_TYPES.has(event.partyType) ? event.partyType : 'EXTERNAL',
  ];
}

export function eventsAfter(chat: Chat, position: number): ChatEvent[] {
  // Positions are 1-based and dense, so the events after N start at index N.
  return chat.events.slice(Math.max(0, position));
}

export function chatResponse(
  chat: Pick<Chat, 'chatSessionId' | 'state' | 'startedAt'>,
  events: ChatEvent[],
  lastPosition: number,
  mode: 'poll' | 'push' = 'poll',
): ChatResponse {
  const ended = chat.state === 'ended';
  return {
    chatIxnState: ended ? 'DISCONNECTED' : mode === 'push' ? 'TRANSCRIPT' : 'CONNECTED',
    chatSessionId: chat.chatSessionId,
    transcriptPosition: String(lastPosition),
    chatServiceMessage: CHAT_SERVICE_MESSAGE,
    startedAt: isoSeconds(chat.startedAt),
    transcriptToShow: events.filter(forCustomer).map((e) => toWireEvent(e, chat.startedAt)),
  };
}

/** The `_verbose` extras of spec §2: the chat server's ids and the action links. */
export function verboseExtras(session: ServiceSession, chat: Chat): Record<string, string> {
  const base = `/genesys/1/service/${session.id}/ixn/chat`;
  return {
    userId: chat.userId,
    secureKey: chat.secureKey,
    alias: chat.endpoint,
    _chatIxnAPI_SEND_URL: `${base}/send`,
    _chatIxnAPI_REFRESH_URL: `${base}/refresh`,
    _chatIxnAPI_REFRESH_FROM_START_URL: `${base}/refreshFromStart`,
    _chatIxnAPI_START_TYPING_URL: `${base}/startTyping`,
    _chatIxnAPI_STOP_TYPING_URL: `${base}/stopTyping`,
    _chatIxnAPI_DISCONNECT_URL: `${base}/disconnect`,
  };
}
