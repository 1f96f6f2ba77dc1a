// Who may do what on the Bayeux endpoint (a faye server extension): binds each client to its customer
// (gms_user) or agent at handshake, maps a customer's `/_genesys` onto a channel private to that client
// and an agent's `/agent/{id}` onto that agent's private channel, and refuses every other subscription
// and every publish that is not the gateway's own.
//
// Why private channels rather than filtering deliveries in an outgoing extension: faye hands outgoing
// extensions a message without the id of the client it is going to (long-polling replies and websocket
// frames alike), so a filter there could only guess. Here isolation is decided once, on subscribe, from
// the identity the server bound at handshake; the client never names the channel it really gets, and
// nothing is ever published on `/_genesys` itself, so a wildcard or a guessed name reaches nothing.

import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { BayeuxMessage, ServerExtension } from 'faye';
import type { AgentDirectory } from '../endpoints/agents.ts';
import type { Logger } from '../log.ts';

export const CUSTOMER_CHANNEL = '/_genesys';
const AGENT_PREFIX = '/agent/';
// Server-side names: only the server subscribes clients to them and publishes on them.
const CLIENT_PRIVATE = '/_private/client/';
const AGENT_PRIVATE = '/_private/agent/';
/** The agent id grammar of endpoint files. */
const AGENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAX_GMS_USER = 256;

export interface Identity {
  gmsUser?: string;
  /** Kept rather than the agent id, so that a token revoked in the endpoint files stops working at once. */
  agentToken?: string;
}

/** The channel the server delivers a customer client's `/_genesys` pushes on. */
export function clientChannel(clientId: string): string {
  return CLIENT_PRIVATE + clientId;
}

/** The channel the server delivers `/agent/{id}` on ('.' is not allowed in Bayeux names; '~' is, and never in ids). */
export function agentChannel(agentId: string): string | undefined {
  return AGENT_ID.test(agentId) ? AGENT_PRIVATE + agentId.replaceAll('.', '~') : undefined;
}

/** What the client asked for, for a server-side name (subscribe replies and deliveries). */
function publicName(channel: string): string {
  if (channel.startsWith(CLIENT_PRIVATE)) return CUSTOMER_CHANNEL;
  if (channel.startsWith(AGENT_PRIVATE)) return AGENT_PREFIX + channel.slice(AGENT_PRIVATE.length).replaceAll('~', '.');
  return channel;
}

export interface ChannelGuardOptions {
  /** Carried in `ext.secret` by the gateway's own in-process publisher. */
  secret: string;
  /** The longest a client may ask a long-poll to be held, in milliseconds. */
  maxPollMs: number;
  agents?: AgentDirectory;
  log: Logger;
  /** A customer client sent /meta/disconnect with `ext.transcriptPosition` (spec §4 background state). */
  onAway(gmsUser: string, position: number): Promise<void>;
}

export class ChannelGuard implements ServerExtension {
  private readonly identities = new Map<string, Identity>();
  /** Identity resolved on a handshake message, until faye's reply names the new client id. */
  private readonly handshaking = new WeakMap<IncomingMessage, Identity>();
  private readonly secret: Buffer;

  constructor(private readonly options: ChannelGuardOptions) {
    this.secret = Buffer.from(options.secret);
  }

  identity(clientId: string): Identity | undefined {
    return this.identities.get(clientId);
  }

  forget(clientId: string): void {
    this.identities.delete(clientId);
  }

  /** Remote clients handshaken and not yet gone (the in-process publisher is not one). */
  get connected(): number {
    return this.identities.size;
  }

  incoming(message: BayeuxMessage, request: IncomingMessage | null, callback: (message: BayeuxMessage) => void): void {
    try {
      // faye answers what is not a message at all (a number, null) with its own error.
      if (typeof message !== 'object' || message === null) return callback(message);
      if (this.fromGateway(message)) return callback(message);
      if (typeof message.channel !== 'string') {
        message.error = '400::A message needs a channel';
        return callback(message);
      }
      switch (message.channel) {
        case '/meta/handshake':
          return callback(this.handshake(message, request));
        case '/meta/subscribe':
        case '/meta/unsubscribe':
          return callback(this.subscription(message));
        case '/meta/disconnect':
          return this.disconnect(message, callback);
        case '/meta/connect':
          // Bayeux lets a client ask for its long-poll's timeout; none may hold a connection longer than ours.
          if (typeof message.advice === 'object' && message.advice !== null) {
            const advice = message.advice as { timeout?: unknown };
            if (typeof advice.timeout !== 'number' || !(advice.timeout <= this.options.maxPollMs)) advice.timeout = this.options.maxPollMs;
          }
          return callback(message);
        default:
          // faye answers /meta/connect itself and refuses unknown /meta channels.
          if (message.channel.startsWith('/meta/')) return callback(message);
          message.error = `403:${message.channel}:Clients may not publish; chat through the Chat API`;
          return callback(message);
      }
    } catch (err) {
      this.options.log.error({ err: String(err), channel: message.channel }, 'a Bayeux message could not be checked');
      message.error = '500::Internal error';
      callback(message);
    }
  }

  outgoing(message: BayeuxMessage, request: IncomingMessage | null, callback: (message: BayeuxMessage) => void): void {
    if (typeof message !== 'object' || message === null || typeof message.channel !== 'string') return callback(message);
    if (message.channel === '/meta/handshake') {
      const identity = request ? this.handshaking.get(request) : undefined;
      if (request) this.handshaking.delete(request);
      if (message.successful && message.clientId && identity) this.identities.set(message.clientId, identity);
    } else if (message.channel === '/meta/subscribe' || message.channel === '/meta/unsubscribe') {
      if (message.subscription !== undefined) {
        message.subscription = Array.isArray(message.subscription)
          ? message.subscription.map((s) => (typeof s === 'string' ? publicName(s) : s))
          : typeof message.subscription === 'string'
            ? publicName(message.subscription)
            : message.subscription;
      }
    } else if (!message.channel.startsWith('/meta/')) {
      message.channel = publicName(message.channel);
    }
    callback(message);
  }

  /** The in-process publisher proves itself with the secret; the secret never travels further. */
  private fromGateway(message: BayeuxMessage): boolean {
    const given = message.ext?.secret;
    if (given === undefined) return false;
    delete message.ext!.secret;
    if (typeof given !== 'string') return false;
    const bytes = Buffer.from(given);
    return bytes.length === this.secret.length && timingSafeEqual(bytes, this.secret);
  }

  private handshake(message: BayeuxMessage, request: IncomingMessage | null): BayeuxMessage {
    const header = request?.headers.gms_user;
    const fromHeader = typeof header === 'string' && header !== '' ? header : undefined;
    const fromExt = typeof message.ext?.gms_user === 'string' && message.ext.gms_user !== '' ? message.ext.gms_user : undefined;
    if (fromHeader !== undefined && fromExt !== undefined && fromHeader !== fromExt) {
      message.error = '400::The gms_user header and ext.gms_user differ';
      return message;
    }
    const gmsUser = fromHeader ?? fromExt;
    if (gmsUser !== undefined && gmsUser.length > MAX_GMS_USER) {
      message.error = '400::gms_user is too long';
      return message;
    }
    const identity: Identity = gmsUser !== undefined ? { gmsUser } : {};
    const token = message.ext?.token;
    if (token !== undefined) {
      if (typeof token !== 'string' || this.agentFor(token) === undefined) {
        message.error = '401::Unknown agent token';
        return message;
      }
      identity.agentToken = token;
    }
    if (request) this.handshaking.set(request, identity);
    return message;
  }

  private subscription(message: BayeuxMessage): BayeuxMessage {
    const identity = (message.clientId && this.identities.get(message.clientId)) || {};
    const asked = message.subscription === undefined ? [] : Array.isArray(message.subscription) ? message.subscription : [message.subscription];
    const mapped: string[] = [];
    for (const channel of asked) {
      const real = typeof channel === 'string' ? this.serverChannel(channel, identity, message) : undefined;
      if (!real) {
        message.error = `403:${String(channel)}:Forbidden channel`;
        return message;
      }
      mapped.push(real);
    }
    message.subscription = Array.isArray(message.subscription) ? mapped : mapped[0];
    return message;
  }

  /** The server-side channel a client may have for a public name, or undefined when it may not. */
  private serverChannel(channel: string, identity: Identity, message: BayeuxMessage): string | undefined {
    if (channel === CUSTOMER_CHANNEL) {
      return identity.gmsUser !== undefined && message.clientId ? clientChannel(message.clientId) : undefined;
    }
    if (channel.startsWith(AGENT_PREFIX)) {
      const agentId = channel.slice(AGENT_PREFIX.length);
      const proven = this.agentFor(message.ext?.token ?? identity.agentToken);
      return proven === agentId ? agentChannel(agentId) : undefined;
    }
    return undefined;
  }

  private agentFor(token: unknown): string | undefined {
    if (typeof token !== 'string' || token === '' || !this.options.agents) return undefined;
    return this.options.agents.authenticate(token)?.id;
  }

  private disconnect(message: BayeuxMessage, callback: (message: BayeuxMessage) => void): void {
    const gmsUser = message.clientId ? this.identities.get(message.clientId)?.gmsUser : undefined;
    const raw = message.ext?.transcriptPosition;
    const text = typeof raw === 'number' ? String(raw) : raw;
    if (gmsUser === undefined || typeof text !== 'string' || !/^\d{1,15}$/.test(text)) return callback(message);
    // The reply waits for the away mark to be stored, so a client that returns at once finds it.
    this.options.onAway(gmsUser, Number(text)).then(
      () => callback(message),
      (err: unknown) => {
        this.options.log.warn({ err: String(err) }, 'could not mark a CometD customer away');
        callback(message);
      },
    );
  }
}
