// Sends a notification through a provider of either kind; the FCM sender keeps its OAuth tokens.

import type { Clock } from '../chat/types.ts';
import type { Notification, SendOutcome } from './notification.ts';
import type { ProviderDefinition } from './provider-file.ts';
import { sendHttpCallback } from './providers/http-callback.ts';
import { FcmSender } from './providers/fcm.ts';

export class Senders {
  private readonly fcm: FcmSender;

  constructor(private readonly clock: Clock) {
    this.fcm = new FcmSender(clock);
  }

  /** One attempt; never throws (a failure is an outcome). */
  send = async (n: Notification, provider: ProviderDefinition, stopping: AbortSignal): Promise<SendOutcome> => {
    // Each request ends at the provider's timeout, or at once when the gateway stops.
    const signal = AbortSignal.any([AbortSignal.timeout(provider.timeoutMs), stopping]);
    try {
      return provider.kind === 'fcm'
        ? await this.fcm.send(n, provider, signal)
        : await sendHttpCallback(n, provider, this.clock.now(), signal);
    } catch (err) {
      return { kind: 'retry', reason: err instanceof Error ? err.message : String(err) };
    }
  };
}
