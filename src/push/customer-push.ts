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
  /** No CometD client of the customer is left (the service's customerIdleWarning counts from now). */
  customerGone(serviceId: string): Promise<void>;
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
}

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
    const client: CustomerClient = { gmsUser, channel, held: [] };
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
        if (view.events.length > 0) this.publish(channel, chatPush(serviceId, view.chat, view.events, view.position));
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

  /** The client unsubscribed or is gone. */
  gone(clientId: string): void {
    const client = this.clients.get(clientId);
    if (!client) return;
    this.clients.delete(clientId);
    const ids = this.byUser.get(client.gmsUser);
    ids?.delete(clientId);
    if (ids?.size !== 0) return;
    this.byUser.delete(client.gmsUser);
    this.lastGone(client.gmsUser).catch((err: unknown) =>
      this.log.warn(
        { err: String(err) },
        "could not note that a customer's last CometD client went; their chat is not timed out for it",
      ),
    );
  }

  private async lastGone(gmsUser: string): Promise<void> {
    for (const serviceId of await this.chats.cometChatsOf(gmsUser)) {
      // A client of the same customer that came meanwhile is there: they are not gone.
      if (this.byUser.has(gmsUser)) return;
      await this.chats.customerGone(serviceId);
    }
  }

  /** The customer's app went to the background having seen events up to `position`. */
  async away(gmsUser: string, position: number): Promise<void> {
    for (const serviceId of await this.chats.cometChatsOf(gmsUser)) await this.chats.markAway(serviceId, position);
  }

  private send(client: CustomerClient, serviceId: string, update: ChatUpdate, events: ChatEvent[]): void {
    if (events.length === 0) return;
    this.publish(client.channel, chatPush(serviceId, update, events, events[events.length - 1].position));
  }
}
