// Pushes of a customer's chat to that customer's CometD clients (spec §4): each committed update of a
// chat in comet mode goes, once and in order, to the clients bound to the chat's gms_user; a client
// that comes back from the background first gets what it missed, then the live updates.

import { randomUUID } from 'node:crypto';
import type { ChatView } from '../chat/chat-service.ts';
import { chatResponse, type ChatResponse } from '../chat/transcript.ts';
import type { Chat, ChatEvent, ChatUpdate } from '../chat/types.ts';
import type { Logger } from '../log.ts';

/** What `/_genesys` subscribers receive. */
export interface ChatPush {
  id: string;
  tag: string;
  message: ChatResponse;
}

/** The chat domain's side of comet mode: finding a customer's chats, the away mark, catching up. */
export interface CometChats {
  cometChatsOf(gmsUser: string): Promise<string[]>;
  markAway(serviceId: string, position: number): Promise<void>;
  comeBack(serviceId: string): Promise<ChatView | undefined>;
  /**
   * No CometD client of the customer is left (the service's customerIdleWarning counts from now);
   * `position`: the last event of the chat known to have reached one, when known.
   */
  customerGone(serviceId: string, position?: number): Promise<void>;
}

export function chatPush(
  serviceId: string,
  chat: Pick<Chat, 'chatSessionId' | 'state' | 'startedAt'>,
  events: ChatEvent[],
  position: number,
): ChatPush {
  return {
    id: randomUUID(),
    tag: `service.chat.refresh.${position}-${serviceId}`,
    message: chatResponse(chat, events, position, 'push'),
  };
}

interface CustomerClient {
  gmsUser: string;
  channel: string;
  /** Live updates held back while the client's missed events are being fetched. */
  held?: ChatUpdate[];
  /** Service id → the last position handed to the client's transport (a long-poll's answer, a websocket frame). */
  handed: Map<string, number>;
  /**
   * What had been handed when the client last asked for more (/meta/connect): a client asks only once it
   * has the answers before, so it has these. A client that vanishes may have lost what came after. Until
   * then, the position before the first event sent to it.
   */
  received: Map<string, number>;
}

/** A push's chat and position, from its tag (`service.chat.refresh.<n>-<service id>`). */
const PUSH_TAG = /^service\.chat\.refresh\.(\d+)-(.+)$/;

export class CustomerPush {
  private readonly clients = new Map<string, CustomerClient>();
  private readonly byUser = new Map<string, Set<string>>();

  constructor(
    private readonly chats: CometChats,
    private readonly publish: (channel: string, push: ChatPush) => void,
    private readonly log: Logger,
  ) {}

  /** For ChatHub: runs inside the chat's lock, in commit order. */
  readonly chatUpdated = (update: ChatUpdate): void => {
    // An update for the agents only (a whisper, a silent party) is not pushed: the customer never learns of it.
    if (update.notifyBy !== 'comet' || update.gmsUser === undefined || update.events.every((e) => e.visibility === 'agents'))
      return;
    const ids = this.byUser.get(update.gmsUser);
    if (!ids) return;
    for (const id of ids) {
      const client = this.clients.get(id)!;
      if (client.held) client.held.push(update);
      else this.send(client, update.serviceId, update, update.events);
    }
  };

  /**
   * A client of `gmsUser` subscribed to `/_genesys` (delivered on `channel`). If the customer was
   * away, it gets every event after its away position before any live update.
   */
  async subscribed(clientId: string, gmsUser: string, channel: string): Promise<void> {
    const client: CustomerClient = { gmsUser, channel, held: [], handed: new Map(), received: new Map() };
    this.clients.set(clientId, client);
    let ids = this.byUser.get(gmsUser);
    if (!ids) this.byUser.set(gmsUser, (ids = new Set()));
    ids.add(clientId);

    // Updates committed before comeBack read the chat are in its view, and may also be held: the
    // positions it returns tell which held events the client already has.
    const seen = new Map<string, number>();
    try {
      for (const serviceId of await this.chats.cometChatsOf(gmsUser)) {
        const view = await this.chats.comeBack(serviceId).catch(() => undefined);
        if (!view) continue;
        seen.set(serviceId, view.position);
        this.send(client, serviceId, view.chat, view.events, view.position);
      }
    } catch (err) {
      this.log.warn({ err: String(err) }, 'could not look up what a returning CometD customer missed');
    } finally {
      const held = client.held ?? [];
      client.held = undefined;
      for (const update of held) {
        const after = seen.get(update.serviceId) ?? 0;
        this.send(
          client,
          update.serviceId,
          update,
          update.events.filter((e) => e.position > after),
        );
      }
    }
  }

  /** faye handed `data`, sent on the client's own channel, to its transport. */
  handedOver(clientId: string, data: unknown): void {
    const client = this.clients.get(clientId);
    const tag = (data as Partial<ChatPush> | undefined)?.tag;
    const match = client && typeof tag === 'string' ? PUSH_TAG.exec(tag) : null;
    if (!client || !match) return;
    const position = Number(match[1]);
    if (position > (client.handed.get(match[2]) ?? 0)) client.handed.set(match[2], position);
  }

  /** The client asked for more (/meta/connect): it has everything handed to it before. */
  askedForMore(clientId: string): void {
    const client = this.clients.get(clientId);
    if (client) for (const [serviceId, position] of client.handed) client.received.set(serviceId, position);
  }

  /** The client unsubscribed or is gone: what it may have missed is kept for its customer's return. */
  gone(clientId: string): void {
    const client = this.clients.get(clientId);
    if (!client) return;
    this.clients.delete(clientId);
    const ids = this.byUser.get(client.gmsUser);
    ids?.delete(clientId);
    if (ids?.size !== 0) return;
    this.byUser.delete(client.gmsUser);
    this.lastGone(client.gmsUser, client.received).catch((err: unknown) =>
      this.log.warn(
        { err: String(err) },
        "could not note that a customer's last CometD client went; their chat is not timed out for it",
      ),
    );
  }

  /**
   * The gateway stops: every customer connected here is gone, each having what was handed to its
   * clients (a stop ends long-polls and websockets after what they carry); nothing is pushed after.
   * Their next CometD session, here or on another node, gets what they missed.
   */
  async stop(): Promise<void> {
    const customers = new Map<string, Map<string, number>>();
    for (const client of this.clients.values()) {
      let handed = customers.get(client.gmsUser);
      if (!handed) customers.set(client.gmsUser, (handed = new Map<string, number>()));
      for (const known of [client.received, client.handed])
        for (const [serviceId, position] of known) handed.set(serviceId, Math.max(position, handed.get(serviceId) ?? 0));
    }
    this.clients.clear();
    this.byUser.clear();
    const marked = await Promise.allSettled([...customers].map(([gmsUser, handed]) => this.lastGone(gmsUser, handed)));
    const failed = marked.filter((m) => m.status === 'rejected');
    if (failed.length > 0)
      this.log.warn(
        { customers: failed.length, err: String(failed[0].reason) },
        'stopping: could not note that CometD customers went; what they miss is not pushed when they come back',
      );
  }

  private async lastGone(gmsUser: string, handed: ReadonlyMap<string, number>): Promise<void> {
    for (const serviceId of await this.chats.cometChatsOf(gmsUser)) {
      // A client of the same customer that came meanwhile is there: they are not gone.
      if (this.byUser.has(gmsUser)) return;
      await this.chats.customerGone(serviceId, handed.get(serviceId));
    }
  }

  /** The customer's app went to the background having seen events up to `position`. */
  async away(gmsUser: string, position: number): Promise<void> {
    for (const serviceId of await this.chats.cometChatsOf(gmsUser)) await this.chats.markAway(serviceId, position);
  }

  private send(
    client: CustomerClient,
    serviceId: string,
    chat: ChatUpdate | Chat,
    events: ChatEvent[],
    position = events[events.length - 1]?.position,
  ): void {
    if (events.length === 0) return;
    if (!client.received.has(serviceId)) client.received.set(serviceId, events[0].position - 1);
    this.publish(client.channel, chatPush(serviceId, chat, events, position));
  }
}
