// Where committed chat updates fan out inside one node: CometD customers, agent channels, and (with
// Redis) other nodes all subscribe here. The chat domain publishes into it and knows nothing more.

import type { ChatListener, ChatUpdate } from '../chat/types.ts';
import type { Logger } from '../log.ts';

export type ChatUpdateHandler = (update: ChatUpdate) => void;

export class ChatHub implements ChatListener {
  private readonly handlers = new Set<ChatUpdateHandler>();

  constructor(private readonly log: Logger) {}

  subscribe(handler: ChatUpdateHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  chatUpdated(update: ChatUpdate): void {
    for (const handler of this.handlers) {
      try {
        handler(update);
      } catch (err) {
        // One failing subscriber must not keep the update from the others, nor fail the customer's call.
        this.log.error({ err, chatSessionId: update.chatSessionId }, 'a chat update could not be delivered');
      }
    }
  }
}
