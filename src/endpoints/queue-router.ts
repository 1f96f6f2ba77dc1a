// Routes chats to interaction endpoints: admits a chat only to an endpoint that exists and is open and
// not full, and reads each endpoint's waiting queue, a set the chat domain keeps with every change of a
// chat (oldest first).

import { queueSet } from '../chat/session-records.ts';
import type { ChatRouter } from '../chat/types.ts';
import { GatewayError } from '../errors.ts';
import type { Store } from '../store/store.ts';

export interface EndpointStatus {
  open: boolean;
  /** Most chats that may wait at once; undefined for no cap. */
  maxWaiting?: number;
}

export type EndpointLookup = (name: string) => EndpointStatus | undefined;

export class QueueRouter implements ChatRouter {
  constructor(
    private readonly store: Store,
    private readonly endpoints: EndpointLookup,
  ) {}

  async admit(endpoint: string): Promise<void> {
    const status = this.endpoints(endpoint);
    if (!status) throw new GatewayError('ServiceUnavailable', `The interaction endpoint '${endpoint}' is not configured.`);
    if (!status.open) throw new GatewayError('ServiceUnavailable', `The interaction endpoint '${endpoint}' is closed.`);
    if (status.maxWaiting !== undefined && (await this.count(endpoint)) >= status.maxWaiting) {
      throw new GatewayError('ServiceUnavailable', `The interaction endpoint '${endpoint}' is full; try again later.`);
    }
  }

  /** Whether the endpoint is open; undefined when no file defines it. */
  isOpen(endpoint: string): boolean | undefined {
    return this.endpoints(endpoint)?.open;
  }

  /** The ids of the endpoint's waiting chats, oldest first. */
  waiting(endpoint: string): Promise<string[]> {
    return this.store.members(queueSet(endpoint));
  }

  /** How many chats wait in the endpoint. */
  count(endpoint: string): Promise<number> {
    return this.store.count(queueSet(endpoint));
  }
}
