// Chat API Version 2 in its CometD mode: a client subscribes to `/service/chatV2/<service>` and publishes
// operations there (`{operation: "requestChat" | "sendMessage" | ..., ...}`); each answer, and every new
// event of the chats it started or resumed, is delivered to that client alone (ChannelGuard gives each
// client a private channel for the name). The same chat domain as the poll API; secureKey on every operation.

import type { ChatDomain, ChatView } from '../chat/chat-service.ts';
import type { Chat, ChatUpdate } from '../chat/types.ts';
import { GatewayError, isGatewayError } from '../errors.ts';
import { isV2Operation, performV2, requestChat } from '../http/chat-v2-operations.ts';
import { CHAT_ID, same, type ServiceDefinitions } from '../http/chat-v2-params.ts';
import { v2Answer, v2ErrorBody, v2Messages } from '../http/chat-v2-wire.ts';
import type { Logger } from '../log.ts';

/** Delivers `data` to one client on its private channel for `/service/chatV2/<service>`. */
export type DeliverV2 = (clientId: string, service: string, data: unknown) => void;

type Params = Record<string, string>;

export class ChatV2Cometd {
  /** chatId → the clients of this node that follow it, with the service channel each subscribed. */
  private readonly followers = new Map<string, Map<string, string>>();
  /** clientId → the chats it follows, to forget them when it goes. */
  private readonly following = new Map<string, Set<string>>();
  /** Per chat, the notifications in order (each reads the chat before it is sent). */
  private readonly queues = new Map<string, Promise<void>>();

  constructor(
    private readonly domain: ChatDomain,
    private readonly services: ServiceDefinitions,
    private readonly deliver: DeliverV2,
    private readonly log: Logger,
  ) {}

  /** An operation a client published on `/service/chatV2/<service>`. */
  /** `address`: the client's address as the per-address caps count it (none: not counted). */
  async handle(clientId: string, service: string, data: unknown, address?: string): Promise<void> {
    const p = toParams(data);
    const operation = p.operation ?? '';
    try {
      const { view, messages } = await this.perform(clientId, service, operation, p, address);
      this.deliver(clientId, service, { operation, ...v2Answer(view.chat, messages) });
    } catch (err) {
      if (!isGatewayError(err)) this.log.error({ err, operation }, 'a Chat API v2 CometD operation failed unexpectedly');
      const known = isGatewayError(err) ? err : new GatewayError('InternalError', 'The gateway could not handle this operation.');
      this.deliver(clientId, service, { operation, ...v2ErrorBody(known) });
    }
  }

  /** The client disconnected: it follows nothing any more. */
  gone(clientId: string): void {
    for (const chatId of this.following.get(clientId) ?? []) {
      const clients = this.followers.get(chatId);
      clients?.delete(clientId);
      if (clients?.size === 0) this.followers.delete(chatId);
    }
    this.following.delete(clientId);
  }

  /** New events of a chat (ChatHub, from this node or another): each follower gets them once, in order. */
  readonly chatUpdated = (update: ChatUpdate): void => {
    const clients = this.followers.get(update.chatSessionId);
    if (!clients || update.events.length === 0) return;
    const first = update.events[0].position;
    const last = update.events.at(-1)!.position;
    const previous = this.queues.get(update.chatSessionId) ?? Promise.resolve();
    const next = previous
      .then(async () => {
        const found = await this.domain.findChat(update.chatSessionId);
        if (!found) return;
        const messages = v2Messages(found.chat, first).filter((m) => m.index <= last);
        if (messages.length === 0 && update.state !== 'ended') return;
        const notice = { ...v2Answer(found.chat, messages), nextPosition: last + 1, chatEnded: update.state === 'ended' };
        for (const [clientId, service] of this.followers.get(update.chatSessionId) ?? []) this.deliver(clientId, service, notice);
      })
      .catch((err: unknown) =>
        this.log.warn({ err, chatSessionId: update.chatSessionId }, 'a Chat API v2 CometD notification could not be sent'),
      )
      .finally(() => {
        if (this.queues.get(update.chatSessionId) === next) this.queues.delete(update.chatSessionId);
      });
    this.queues.set(update.chatSessionId, next);
  };

  private async perform(
    clientId: string,
    serviceName: string,
    operation: string,
    p: Params,
    address?: string,
  ): Promise<{ view: ChatView; messages: ReturnType<typeof v2Messages> }> {
    if (operation === 'requestChat') {
      const view = await requestChat(this.domain, this.services, serviceName, p, address);
      this.follow(clientId, view.chat.chatSessionId, serviceName);
      return { view, messages: v2Messages(view.chat, 1) };
    }
    // `requestNotifications` (resuming a chat on a new client) is a refresh that makes this client follow it.
    const name = operation === 'requestNotifications' ? 'refresh' : operation;
    if (!isV2Operation(name)) throw new GatewayError('InvalidParameter', `Unknown operation '${operation.slice(0, 64)}'.`);
    const { session } = await this.customerChat(serviceName, p);
    const view = await performV2(this.domain, session, this.services(serviceName), name, p);
    this.follow(clientId, view.chat.chatSessionId, serviceName);
    const from = positionOf(p.transcriptPosition);
    return { view, messages: from === undefined ? [] : v2Messages(view.chat, from) };
  }

  /** The operation's chat: it exists, is of this service, and the secureKey (and userId, when given) match. */
  private async customerChat(service: string, p: Params): Promise<{ session: { id: string; gmsUser?: string }; chat: Chat }> {
    const chatId = p.chatId ?? '';
    if (!p.secureKey) throw new GatewayError('InvalidParameter', "The parameter 'secureKey' is required.");
    const found = CHAT_ID.test(chatId) ? await this.domain.findChat(chatId) : undefined;
    const keysMatch =
      found !== undefined &&
      same(found.chat.secureKey, p.secureKey) &&
      (p.userId === undefined || same(found.chat.userId, p.userId));
    if (!found || found.session.service !== service || !keysMatch) {
      throw new GatewayError(
        'SessionNotFound',
        'No such chat: the chatId is unknown or expired, or userId and secureKey do not match it.',
      );
    }
    return found;
  }

  private follow(clientId: string, chatId: string, service: string): void {
    let clients = this.followers.get(chatId);
    if (!clients) this.followers.set(chatId, (clients = new Map<string, string>()));
    clients.set(clientId, service);
    let chats = this.following.get(clientId);
    if (!chats) this.following.set(clientId, (chats = new Set()));
    chats.add(chatId);
  }
}

/** A published message's data as the flat string parameters of the poll API (userData stays an object, as JSON). */
function toParams(data: unknown): Params {
  const out: Params = Object.create(null) as Params;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return out;
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype' || value === null || value === undefined) continue;
    out[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return out;
}

function positionOf(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,15}$/.test(raw))
    throw new GatewayError('InvalidParameter', 'transcriptPosition must be a whole number of 0 or more.');
  return Math.max(1, Number(raw));
}
