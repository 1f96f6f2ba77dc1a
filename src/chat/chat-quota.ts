// Caps the chats a service holds at once (the service option `maxChats`): a store key per service lists
// its sessions, and a new session is admitted only while fewer than the cap are still live.

import { GatewayError } from '../errors.ts';
import type { Store } from '../store/store.ts';

/** Session id → when it was admitted; kept in the store so that every gateway node sees the same count. */
type Admitted = Record<string, number>;

const quotaKey = (service: string): string => `quota:${service}`;
/** The list is rewritten at every admission; it only needs to outlive the longest quiet spell. */
const QUOTA_TTL_MS = 365 * 24 * 3600 * 1000;
/**
 * A session is written after its admission, so one admitted moments ago may not be stored yet (on the
 * SQLite file a write takes milliseconds, and concurrent creations are admitted meanwhile): not finding
 * it frees its place only after this long.
 */
const UNWRITTEN_GRACE_MS = 30_000;

/** Where a session stands: a live chat holds its place; an expired or ended one does not; `absent` is not stored. */
export type Place = 'held' | 'freed' | 'absent';

export class ChatQuota {
  constructor(
    private readonly store: Store,
    /** `held` while the session exists, has not expired, and its chat has not ended. */
    private readonly place: (sessionId: string) => Promise<Place>,
  ) {}

  /**
   * Records `sessionId` as one of `service`'s chats, or throws ServiceUnavailable when `max` are live.
   * Sessions that ended are only looked up once the list is full, so admission stays cheap below the cap.
   */
  admit(
    service: string,
    max: number,
    sessionId: string,
    now: number,
    refusal: () => GatewayError = () =>
      new GatewayError('ServiceUnavailable', `Service '${service}' already has its maximum of ${max} chats; try again later.`),
  ): Promise<void> {
    return this.store.update<Admitted, void>(quotaKey(service), async (current) => {
      // A copy: the stored list is a shared snapshot (store.ts).
      const admitted: Admitted = { ...current };
      if (Object.keys(admitted).length >= max) {
        const ids = Object.keys(admitted);
        const places = await Promise.all(ids.map((id) => this.place(id)));
        ids.forEach((id, i) => {
          if (places[i] === 'freed' || (places[i] === 'absent' && now - admitted[id] > UNWRITTEN_GRACE_MS)) delete admitted[id];
        });
      }
      if (Object.keys(admitted).length >= max) throw refusal();
      admitted[sessionId] = now;
      return { write: admitted, ttlMs: QUOTA_TTL_MS, result: undefined };
    });
  }
}
