// GMS's HTTP callback push type (customhttp): the notification's JSON POSTed to the provider's URL,
// signed with HMAC-SHA256 over `<timestamp>.<body>` so the receiver can tell it came from this gateway
// and is fresh; the notification id goes as the Idempotency-Key for the receiver to drop repeats.

import { createHmac } from 'node:crypto';
import type { HttpCallbackDefinition } from '../provider-file.ts';
import { gmsPayload, outcomeOfError, outcomeOfStatus, type Notification, type SendOutcome } from '../notification.ts';

export const SIGNATURE_HEADER = 'x-gms-signature';

/** The signature header's value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export function signature(secret: string, body: string, nowMs: number): string {
  const t = Math.floor(nowMs / 1000);
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

export async function sendHttpCallback(
  n: Notification,
  provider: HttpCallbackDefinition,
  nowMs: number,
  signal: AbortSignal,
): Promise<SendOutcome> {
  const body = JSON.stringify(gmsPayload(n));
  const url = n.registration.debug && provider.debugUrl ? provider.debugUrl : provider.url;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': n.id,
        [SIGNATURE_HEADER]: signature(provider.secret, body, nowMs),
      },
      body,
      redirect: 'manual',
      signal,
    });
    await res.arrayBuffer().catch(() => undefined);
    // 410 Gone: the receiver no longer serves this device (404 may be a wrong URL, so it is a failure).
    return outcomeOfStatus(res.status, res.headers.get('retry-after'), (status) => status === 410);
  } catch (err) {
    return outcomeOfError(err);
  }
}
