// One notification as providers send it, and the payload GMS mobile clients parse: `message`,
// `serviceId` and `lastTranscript` (the events told of, as Chat API v1 transcript rows), with `_id` and
// `_action` for the clients that only look up the chat and refresh it.

import type { ChatEvent, PushRegistration } from '../chat/types.ts';
import { toWireEvent, type WireEvent } from '../chat/transcript.ts';

export interface Notification {
  /** The idempotency key: the same on every attempt of this notification. */
  id: string;
  /** The service session id (GMS's `_id`): the app's way back to the chat. */
  serviceId: string;
  chatSessionId: string;
  registration: PushRegistration;
  title: string;
  body: string;
  /** The events it tells of, oldest first. */
  events: ChatEvent[];
  /** When the chat started (transcript rows count seconds from it). */
  startedAt: number;
  /** The position of the last event of the chat when it was built. */
  transcriptPosition: number;
  /** Whether the chat has ended. */
  ended: boolean;
}

/** What a provider's attempt came to. */
export type SendOutcome =
  | { kind: 'sent' }
  /** Worth trying again (5xx, 429, a timeout, no answer), not before `afterMs` if the provider said so. */
  | { kind: 'retry'; reason: string; afterMs?: number }
  /** The provider no longer knows the device (FCM UNREGISTERED, a callback's 410): the registration goes. */
  | { kind: 'unregistered'; reason: string }
  /** Refused for good (another 4xx): this notification is dropped, the registration stays. */
  | { kind: 'failed'; reason: string };

export const ACTION = 'chat.refresh';

/** The payload of the HTTP callback and, as strings, FCM's data. */
export function gmsPayload(n: Notification): {
  deviceId: string;
  type: string;
  message: string;
  title: string;
  serviceId: string;
  chatId: string;
  transcriptPosition: string;
  chatEnded: boolean;
  lastTranscript: WireEvent[];
  _id: string;
  _action: string;
  notificationId: string;
  language?: string;
  subscriptionID?: string;
} {
  const r = n.registration;
  return {
    deviceId: r.deviceId,
    type: r.type,
    message: n.body,
    title: n.title,
    serviceId: n.serviceId,
    chatId: n.chatSessionId,
    transcriptPosition: String(n.transcriptPosition),
    chatEnded: n.ended,
    lastTranscript: n.events.map((e) => toWireEvent(e, n.startedAt)),
    _id: n.serviceId,
    _action: ACTION,
    notificationId: n.id,
    ...(r.language ? { language: r.language } : {}),
    ...(r.subscriptionId ? { subscriptionID: r.subscriptionId } : {}),
  };
}

/** How a provider's HTTP status is taken: 2xx sent, 408/429/5xx again, 404/410 `gone` per provider, other 4xx failed. */
export function outcomeOfStatus(status: number, retryAfter: string | null, gone: (status: number) => boolean): SendOutcome {
  if (status >= 200 && status < 300) return { kind: 'sent' };
  if (gone(status)) return { kind: 'unregistered', reason: `HTTP ${status}` };
  if (status === 408 || status === 429 || status >= 500) {
    const seconds = retryAfter !== null && /^\d{1,6}$/.test(retryAfter.trim()) ? Number(retryAfter) : undefined;
    return { kind: 'retry', reason: `HTTP ${status}`, ...(seconds !== undefined ? { afterMs: seconds * 1000 } : {}) };
  }
  return { kind: 'failed', reason: `HTTP ${status}` };
}

/** What a failed fetch means: a timeout or a connection that could not be made is tried again. */
export function outcomeOfError(err: unknown): SendOutcome {
  const name = err instanceof Error ? err.name : '';
  const reason = name === 'TimeoutError' || name === 'AbortError' ? 'timed out' : `no answer (${describe(err)})`;
  return { kind: 'retry', reason };
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as Error & { cause?: { code?: string } }).cause;
  return cause?.code ?? err.message;
}
