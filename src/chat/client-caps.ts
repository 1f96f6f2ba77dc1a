// Caps per client address: live service sessions (MAX_SESSIONS_PER_ADDRESS) and chats waiting for an
// agent (MAX_WAITING_PER_ADDRESS), so that one address cannot fill an endpoint's queue (maxWaiting) and
// turn every other customer away. Counted in the store, so every gateway node sees the same count.
// Over a cap: 429 RateLimited, as the limit is this client's, not the service's (which answers 503).

import { GatewayError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import { ChatQuota, type Place } from './chat-quota.ts';

export interface ClientLimits {
  /** Live (not ended, not expired) service sessions one address may hold; 0: no cap. */
  sessions: number;
  /** Chats one address may have waiting for an agent at once; 0: no cap. */
  waiting: number;
}

export interface ClientPlaces {
  /** `held` while the session exists, has not expired and its chat has not ended. */
  session: (sessionId: string) => Promise<Place>;
  /** `held` while the session's chat waits for an agent; `absent` while it is not started yet. */
  waiting: (sessionId: string) => Promise<Place>;
}

export class ClientCaps {
  private readonly sessions: ChatQuota;
  private readonly waiting: ChatQuota;

  constructor(
    store: Store,
    private readonly limits: ClientLimits,
    places: ClientPlaces,
  ) {
    this.sessions = new ChatQuota(store, places.session);
    this.waiting = new ChatQuota(store, places.waiting);
  }

  /** Counts a new session against its address, or throws RateLimited. (`@` never occurs in service names.) */
  admitSession(address: string, sessionId: string, now: number): Promise<void> {
    const max = this.limits.sessions;
    if (max === 0) return Promise.resolve();
    return this.sessions.admit(
      `sessions@${address}`,
      max,
      sessionId,
      now,
      () =>
        new GatewayError(
          'RateLimited',
          `Your address already holds ${max} open chat sessions; end one, or try again once one has expired.`,
        ),
    );
  }

  /** Counts a chat about to wait against its address, or throws RateLimited. */
  admitWaiting(address: string, sessionId: string, now: number): Promise<void> {
    const max = this.limits.waiting;
    if (max === 0) return Promise.resolve();
    return this.waiting.admit(
      `waiting@${address}`,
      max,
      sessionId,
      now,
      () =>
        new GatewayError(
          'RateLimited',
          `Your address already has ${max} chats waiting for an agent; end one or wait until an agent takes one.`,
        ),
    );
  }
}
