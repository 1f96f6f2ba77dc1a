// Chat API Version 2 on the wire: the one place where chat state becomes v2's `messages` (objects with
// `from`, `index`, `type`, `utcTime`), its answer envelope, and its error envelope
// (`{statusCode, errors: [{code, advice}]}`). Shared by the v2 routes and the error renderer.

import type { Context } from 'koa';
import { FileRefused, type FileRefusal } from '../chat/file-rules.ts';
import type { Chat, ChatEvent, EventType, PartyType } from '../chat/types.ts';
import type { ExceptionName, GatewayError } from '../errors.ts';

export const V2_BASE = '/genesys/2/chat';

export interface V2Message {
  from: { nickname: string; participantId: number; type: string };
  index: number;
  type: string;
  utcTime: number;
  text?: string;
  userData?: Record<string, string>;
}

const TYPES: Record<EventType, string> = {
  'Message.Text': 'Message',
  'Notice.Joined': 'ParticipantJoined',
  'Notice.Left': 'ParticipantLeft',
  'Notice.TypingStarted': 'TypingStarted',
  'Notice.TypingStopped': 'TypingStopped',
  'Notice.PushUrl': 'PushUrl',
  'Notice.Custom': 'CustomNotice',
  'Notice.NicknameUpdated': 'NicknameUpdated',
  'Notice.FileUploaded': 'FileUploaded',
  'Notice.FileDeleted': 'FileDeleted',
};

const PARTY_TYPES: Record<PartyType, string> = {
  CLIENT: 'Client',
  AGENT: 'Agent',
  SUPERVISOR: 'Supervisor',
  EXTERNAL: 'External',
};

/** Event types whose text v2 shows (a join or a typing notice carries none). */
const WITH_TEXT = new Set<EventType>(['Message.Text', 'Notice.PushUrl', 'Notice.Custom']);

/**
 * The chat's events from index `from` (1-based, inclusive, as v2's transcriptPosition) on. Participant
 * ids are numbered as parties first appear in the transcript, the customer being 1, so the same party
 * has the same id in every answer and on every node.
 */
export function v2Messages(chat: Pick<Chat, 'events'>, from: number): V2Message[] {
  const ids = new Map<string, number>([['CLIENT', 1]]);
  const out: V2Message[] = [];
  for (const event of chat.events) {
    // Whispers and silent parties are for the agents: the customer gets neither them nor an id for them.
    if (event.visibility === 'agents') continue;
    const party = partyKey(event);
    let id = ids.get(party);
    if (id === undefined) ids.set(party, (id = ids.size + 1));
    if (event.position >= from) out.push(v2Message(event, id));
  }
  return out;
}

function partyKey(event: ChatEvent): string {
  return event.partyType === 'CLIENT' ? 'CLIENT' : `${event.partyType}:${event.agentId ?? event.nickname}`;
}

function v2Message(event: ChatEvent, participantId: number): V2Message {
  return {
    from: { nickname: event.nickname, participantId, type: PARTY_TYPES[event.partyType] },
    index: event.position,
    type: TYPES[event.type],
    utcTime: event.at,
    ...(WITH_TEXT.has(event.type) ? { text: event.text } : {}),
    ...(event.data ? { userData: event.data } : {}),
  };
}

/** Every successful answer: the chat's ids, the messages asked for, and where the next one will be. */
export function v2Answer(chat: Chat, messages: V2Message[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    messages,
    chatEnded: chat.state === 'ended',
    statusCode: 0,
    alias: chat.endpoint,
    secureKey: chat.secureKey,
    userId: chat.userId,
    chatId: chat.chatSessionId,
    nextPosition: chat.events.length + 1,
    ...extra,
  };
}

/**
 * The v2 error codes (ours: the GMS reference names the envelope, not a table of codes). statusCode 1:
 * the request cannot be done as sent; 2: the chat, the service or the gateway cannot serve it.
 */
const CODES: Record<ExceptionName, [statusCode: 1 | 2, code: number]> = {
  InternalError: [2, 100],
  InvalidParameter: [1, 101],
  SessionNotFound: [2, 102],
  ChatEnded: [1, 103],
  ServiceNotFound: [2, 104],
  ServiceUnavailable: [2, 105],
  RateLimited: [2, 106],
  PayloadTooLarge: [1, 107],
  UnsupportedMediaType: [1, 108],
  Forbidden: [1, 109],
  Conflict: [1, 110],
  NotFound: [2, 111],
  MethodNotAllowed: [1, 112],
  Unauthorized: [1, 113],
  ChatNotStarted: [1, 114],
  ChatAlreadyStarted: [1, 115],
  // The admin API's; never raised by the chat API.
  PreconditionFailed: [1, 116],
  PreconditionRequired: [1, 117],
};

const FILE_CODES: Record<FileRefusal, number> = {
  disabled: 120,
  type: 121,
  size: 122,
  count: 123,
  total: 124,
  agent: 125,
  unknown: 126,
};

export function v2ErrorBody(err: GatewayError): { statusCode: 1 | 2; errors: { code: number; advice: string }[] } {
  const [statusCode, code] = CODES[err.exception] ?? [2, 100];
  const fileCode = err instanceof FileRefused ? FILE_CODES[err.reason] : undefined;
  return { statusCode: fileCode === 126 ? 2 : statusCode, errors: [{ code: fileCode ?? code, advice: err.message }] };
}

export function isV2Path(path: string): boolean {
  return path.startsWith(`${V2_BASE}/`);
}

/** Renders an error of a v2 call: the HTTP status of the failure, the v2 envelope as body. */
export function renderV2Error(ctx: Context, err: GatewayError): void {
  ctx.status = err.status;
  ctx.set(err.headers);
  ctx.body = v2ErrorBody(err);
}
