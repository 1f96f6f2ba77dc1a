// Firebase Cloud Messaging, HTTP v1 API: an OAuth 2.0 access token obtained with the service account's
// signed JWT (the JWT-bearer grant, RFC 7523), kept until shortly before it expires, then one
// `projects/<id>/messages:send` per notification, to the device's registration token.

import { sign } from 'node:crypto';
import type { Clock } from '../../chat/types.ts';
import type { FcmDefinition, FcmTarget } from '../provider-file.ts';
import { gmsPayload, outcomeOfError, outcomeOfStatus, type Notification, type SendOutcome } from '../notification.ts';

export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** A token is renewed this long before it expires. */
const RENEW_BEFORE_MS = 60_000;
/** FCM refuses data payloads over 4096 bytes; the transcript rows are cut to stay under this. */
const DATA_BUDGET = 3500;

interface Token {
  value: string;
  expiresAt: number;
}

const base64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

/** The signed assertion of the JWT-bearer grant for `target`'s service account. */
export function assertion(target: FcmTarget, nowMs: number): string {
  const iat = Math.floor(nowMs / 1000);
  const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const claims = base64url(
    JSON.stringify({ iss: target.clientEmail, scope: FCM_SCOPE, aud: target.tokenUrl, iat, exp: iat + 3600 }),
  );
  const signature = sign('RSA-SHA256', Buffer.from(`${header}.${claims}`), target.privateKey);
  return `${header}.${claims}.${base64url(signature)}`;
}

/** The v1 API's message for a notification: shown by the system (notification) and handed to the app (data, all strings). */
export function fcmMessage(n: Notification): Record<string, unknown> {
  const payload = gmsPayload(n);
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries(payload)) data[key] = typeof value === 'string' ? value : JSON.stringify(value);
  // The newest rows are kept: the app refreshes the chat for the rest.
  let rows = payload.lastTranscript;
  while (rows.length > 1 && JSON.stringify(data).length > DATA_BUDGET) {
    rows = rows.slice(1);
    data.lastTranscript = JSON.stringify(rows);
  }
  return {
    token: n.registration.deviceId,
    notification: { title: n.title, body: n.body },
    data,
    // Later notifications of one chat replace earlier ones not yet shown.
    android: { collapse_key: n.chatSessionId, priority: 'HIGH' },
    apns: { headers: { 'apns-collapse-id': n.chatSessionId } },
  };
}

export class FcmSender {
  private readonly tokens = new Map<string, Promise<Token>>();

  constructor(private readonly clock: Clock) {}

  async send(n: Notification, provider: FcmDefinition, signal: AbortSignal): Promise<SendOutcome> {
    const target = n.registration.debug && provider.debug ? provider.debug : provider.live;
    let token: Token;
    try {
      token = await this.token(target, signal);
    } catch (err) {
      return err instanceof TokenRefused ? { kind: 'retry', reason: err.message } : outcomeOfError(err);
    }
    try {
      const res = await fetch(target.sendUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${token.value}`, 'content-type': 'application/json; charset=UTF-8' },
        body: JSON.stringify({ message: fcmMessage(n) }),
        redirect: 'manual',
        signal,
      });
      const text = await res.text().catch(() => '');
      if (res.status === 401) {
        // The token was revoked or has expired early: the next attempt gets a new one.
        this.forget(target, token);
        return { kind: 'retry', reason: 'HTTP 401: the access token was refused' };
      }
      const code = errorCode(text);
      if (code === 'UNREGISTERED') return { kind: 'unregistered', reason: `HTTP ${res.status} UNREGISTERED` };
      const outcome = outcomeOfStatus(res.status, res.headers.get('retry-after'), () => false);
      return outcome.kind === 'failed' && code ? { kind: 'failed', reason: `${outcome.reason} ${code}` } : outcome;
    } catch (err) {
      return outcomeOfError(err);
    }
  }

  /** The cached token of the target's service account, or a new one (one request at a time per account). */
  private async token(target: FcmTarget, signal: AbortSignal): Promise<Token> {
    const key = `${target.clientEmail}\n${target.tokenUrl}`;
    const cached = this.tokens.get(key);
    if (cached) {
      const token = await cached.catch(() => undefined);
      if (token && token.expiresAt - RENEW_BEFORE_MS > this.clock.now()) return token;
      if (this.tokens.get(key) !== cached) return this.token(target, signal);
    }
    const fresh = this.fetchToken(target, signal);
    this.tokens.set(key, fresh);
    fresh.catch(() => {
      if (this.tokens.get(key) === fresh) this.tokens.delete(key);
    });
    return fresh;
  }

  private forget(target: FcmTarget, token: Token): void {
    const key = `${target.clientEmail}\n${target.tokenUrl}`;
    void this.tokens.get(key)?.then((t) => {
      if (t === token) this.tokens.delete(key);
    });
  }

  private async fetchToken(target: FcmTarget, signal: AbortSignal): Promise<Token> {
    const now = this.clock.now();
    const res = await fetch(target.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: JWT_BEARER, assertion: assertion(target, now) }).toString(),
      redirect: 'manual',
      signal,
    });
    const text = await res.text().catch(() => '');
    if (res.status !== 200) throw new TokenRefused(`the token endpoint answered HTTP ${res.status}${oauthError(text)}`);
    const body = parse(text);
    const value = typeof body?.access_token === 'string' ? body.access_token : undefined;
    const expiresIn = typeof body?.expires_in === 'number' ? body.expires_in : 3600;
    if (!value) throw new TokenRefused('the token endpoint answered no access_token');
    return { value, expiresAt: now + expiresIn * 1000 };
  }
}

class TokenRefused extends Error {}

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** FCM's error code of a failed send (`details[].errorCode`, google.firebase.fcm.v1.FcmError). */
function errorCode(text: string): string | undefined {
  const error = parse(text)?.error as { details?: { errorCode?: unknown }[]; status?: unknown } | undefined;
  const code = error?.details?.find((d) => typeof d.errorCode === 'string')?.errorCode;
  return typeof code === 'string' ? code : typeof error?.status === 'string' ? error.status : undefined;
}

function oauthError(text: string): string {
  const error = parse(text)?.error;
  return typeof error === 'string' && /^[a-z_]{1,64}$/.test(error) ? ` (${error})` : '';
}
