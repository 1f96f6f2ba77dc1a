// Who may do what on the Bayeux endpoint (a faye server extension): binds each client to its customer
// (gms_user) or agent, maps a customer's `/_genesys` and an agent's `/agent/{id}` onto channels private to
// that client, refuses every other subscription and every publish that is not the gateway's own, and
// holds each client address to its message rate and its number of live clients.
//
// Why private channels rather than filtering deliveries in an outgoing extension: faye hands outgoing
// extensions a message without the id of the client it is going to (long-polling replies and websocket
// frames alike), so a filter there could only guess. Here isolation is decided once, on subscribe, from
// the identity the server bound; the client never names the channel it really gets, and nothing is ever
// published on `/_genesys` or `/agent/{id}` themselves, so a wildcard or a guessed name reaches nothing.

import { timingSafeEqual } from 'node:crypto';
import type { BayeuxMessage, BayeuxRequest, ServerExtension } from 'faye';
import type { Agent, AgentDirectory } from '../endpoints/agents.ts';
import { MAX_GMS_USER_LENGTH } from '../chat/gms-user.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import type { Logger } from '../log.ts';
import { depthExceeds } from './bayeux-limits.ts';

export const CUSTOMER_CHANNEL = '/_genesys';
const AGENT_PREFIX = '/agent/';
// Server-side names: only the server subscribes clients to them and publishes on them.
const CLIENT_PRIVATE = '/_private/client/';
const AGENT_PRIVATE = '/_private/agent/';
/** Chat API v2's CometD mode: clients subscribe and publish operations here (chat-v2-cometd.ts). */
export const CHAT_V2_PREFIX = '/service/chatV2/';
const CHAT_V2_PRIVATE = '/_private/chatv2/';
const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** The agent id grammar of endpoint files. */
const AGENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface Identity {
  gmsUser?: string;
  /** Kept rather than the agent, so that a token revoked in the endpoint files stops working at once. */
  agentToken?: string;
  /** The client address that handshook: its live clients are counted against it. */
  address?: string;
  /** The agent token was revoked or rotated: the client gets nothing more and is told to stop. */
  revoked?: boolean;
}

/** The channel the server delivers a customer client's `/_genesys` pushes on. */
export function clientChannel(clientId: string): string {
  return CLIENT_PRIVATE + clientId;
}

/** The channel the server delivers one agent client's `/agent/{id}` on ('.' is not allowed in Bayeux names; '~' is, and never in ids). */
export function agentClientChannel(agentId: string, clientId: string): string | undefined {
  return AGENT_ID.test(agentId) ? `${AGENT_PRIVATE}${agentId.replaceAll('.', '~')}/${clientId}` : undefined;
}

/** The channel one client gets for `/service/chatV2/<service>` ('.' is not allowed in Bayeux names; '~' is, and never in names). */
export function chatV2Channel(clientId: string, service: string): string {
  return `${CHAT_V2_PRIVATE}${clientId}/${service.replaceAll('.', '~')}`;
}

export function isAgentClientChannel(channel: string): boolean {
  return channel.startsWith(AGENT_PRIVATE);
}

/** The agent whose channel this is (as subscribed, or its server-side name), or undefined. */
export function agentOfChannel(channel: string): string | undefined {
  const name = publicName(channel);
  return name.startsWith(AGENT_PREFIX) ? name.slice(AGENT_PREFIX.length) : undefined;
}

/** What the client asked for, for a server-side name (subscribe replies and deliveries). */
function publicName(channel: string): string {
  if (channel.startsWith(CLIENT_PRIVATE)) return CUSTOMER_CHANNEL;
  if (channel.startsWith(CHAT_V2_PRIVATE)) {
    const rest = channel.slice(CHAT_V2_PRIVATE.length);
    return CHAT_V2_PREFIX + rest.slice(rest.indexOf('/') + 1).replaceAll('~', '.');
  }
  if (channel.startsWith(AGENT_PRIVATE)) {
    const agent = channel.slice(AGENT_PRIVATE.length);
    return AGENT_PREFIX + agent.slice(0, agent.indexOf('/')).replaceAll('~', '.');
  }
  return channel;
}

export interface AddressLimits {
  /** The gateway's per-address buckets (RATE_LIMIT_IP_*, RATE_LIMIT_EXEMPT): one token per Bayeux message. */
  rate?: Pick<RateLimiter, 'addressWait' | 'isExempt'>;
  /** Most CometD clients one address may hold at once (exempt addresses are not limited). */
  maxClientsPerAddress: number;
}

export interface ChannelGuardOptions {
  /** Carried in `ext.secret` by the gateway's own in-process publisher. */
  secret: string;
  /** The longest a client may ask a long-poll to be held, in milliseconds. */
  maxPollMs: number;
  /** Deepest nesting of objects and arrays in one message (websocket messages are checked here). */
  maxDepth: number;
  /** Most messages one request or websocket message may carry (websocket messages are counted here). */
  maxMessages: number;
  agents?: AgentDirectory;
  /** The client address of a request. */
  addressOf(request: BayeuxRequest): string;
  limits: AddressLimits;
  log: Logger;
  /** A customer sent /meta/disconnect with `ext.transcriptPosition` (spec §4 background state). */
  onAway(gmsUser: string, position: number): Promise<void>;
  /** A client asked for more (/meta/connect, checked): it has what was handed to it before. */
  onConnect(clientId: string): void;
  /** A message on a customer client's own channel goes to that client's transport. */
  onHanded(clientId: string, data: unknown): void;
  /** A client published a Chat API v2 operation on `/service/chatV2/<service>`; without it, refused. */
  onChatV2?(clientId: string, service: string, data: unknown, address: string | undefined): void;
}

export class ChannelGuard implements ServerExtension {
  private readonly identities = new Map<string, Identity>();
  /** Identities resolved on the handshakes of a request, in order, until faye's replies name the clients. */
  private readonly handshaking = new WeakMap<BayeuxRequest, Identity[]>();
  /** Customers already marked away by the messages of one request (a batch), so each is marked once. */
  private readonly awayInBatch = new WeakMap<BayeuxRequest, Set<string>>();
  /** Messages seen in this turn of the event loop per request: a batch, or the websocket messages read at once. */
  private readonly inBatch = new WeakMap<BayeuxRequest, number>();
  private readonly clientsByAddress = new Map<string, number>();
  private readonly secret: Buffer;

  constructor(private readonly options: ChannelGuardOptions) {
    this.secret = Buffer.from(options.secret);
  }

  identity(clientId: string): Identity | undefined {
    return this.identities.get(clientId);
  }

  forget(clientId: string): void {
    const identity = this.identities.get(clientId);
    if (!identity) return;
    this.identities.delete(clientId);
    this.release(identity.address);
  }

  /** The agent behind a client's token now; undefined when the token no longer authenticates. */
  agentOf(clientId: string): Agent | undefined {
    const token = this.identities.get(clientId)?.agentToken;
    return token === undefined ? undefined : this.agent(token);
  }

  /** The client's agent token no longer holds: nothing more is delivered, and its next message is refused. */
  revoke(clientId: string): void {
    const identity = this.identities.get(clientId);
    if (!identity) return;
    delete identity.agentToken;
    identity.revoked = true;
  }

  /** Remote clients handshaken and not yet gone (the in-process publisher is not one). */
  get connected(): number {
    return this.identities.size;
  }

  incoming(message: BayeuxMessage, request: BayeuxRequest | null, callback: (message: BayeuxMessage) => void): void {
    try {
      // faye answers what is not a message at all (a number, null) with its own error.
      if (typeof message !== 'object' || message === null) return callback(message);
      if (this.fromGateway(message)) return callback(message);
      if (typeof message.channel !== 'string') {
        message.error = '400::A message needs a channel';
        return callback(message);
      }
      const refusal = request ? this.limit(message, request) : undefined;
      if (refusal) {
        message.error = refusal;
        return callback(message);
      }
      switch (message.channel) {
        case '/meta/handshake':
          return callback(this.handshake(message, request));
        case '/meta/subscribe':
        case '/meta/unsubscribe':
          return callback(this.subscription(message));
        case '/meta/disconnect':
          return this.disconnect(message, request, callback);
        case '/meta/connect':
          if (typeof message.clientId === 'string') this.options.onConnect(message.clientId);
          // Bayeux lets a client ask for its long-poll's timeout; none may hold a connection longer than ours.
          if (typeof message.advice === 'object' && message.advice !== null) {
            const advice = message.advice as { timeout?: unknown };
            if (typeof advice.timeout !== 'number' || !(advice.timeout <= this.options.maxPollMs))
              advice.timeout = this.options.maxPollMs;
          }
          return callback(message);
        default:
          // faye refuses unknown /meta channels.
          if (message.channel.startsWith('/meta/')) return callback(message);
          if (
            message.channel.startsWith(CHAT_V2_PREFIX) &&
            this.options.onChatV2 &&
            message.clientId &&
            this.identities.has(message.clientId)
          ) {
            const service = message.channel.slice(CHAT_V2_PREFIX.length);
            if (!SERVICE_NAME.test(service)) {
              message.error = `404:${message.channel}:No such service`;
              return callback(message);
            }
            // The operation is the gateway's to run; its answer goes to this client alone. The message itself
            // is published nowhere anyone listens ('~' never begins a client id), only acknowledged.
            // The address its handshake was counted under (none for exempt ones) caps the chats it starts.
            this.options.onChatV2(message.clientId, service, message.data, this.identities.get(message.clientId)?.address);
            message.channel = chatV2Channel('~sink', service);
            return callback(message);
          }
          message.error = `403:${message.channel}:Clients may not publish; chat through the Chat API`;
          return callback(message);
      }
    } catch (err) {
      this.options.log.error({ err, channel: message.channel }, 'a Bayeux message could not be checked');
      message.error = '500::Internal error';
      callback(message);
    }
  }

  outgoing(message: BayeuxMessage, request: BayeuxRequest | null, callback: (message: BayeuxMessage) => void): void {
    if (typeof message !== 'object' || message === null || typeof message.channel !== 'string') return callback(message);
    if (message.channel === '/meta/handshake') {
      const identity = request ? this.handshaking.get(request)?.shift() : undefined;
      if (message.successful && message.clientId && identity) {
        this.identities.set(message.clientId, identity);
        // A client that named no one cannot be offered websocket: a browser's websocket carries none of
        // the app's headers, so its gms_user could never arrive. It stays on HTTP, where every request
        // carries them (see `bindLate`).
        if (
          identity.gmsUser === undefined &&
          identity.agentToken === undefined &&
          Array.isArray(message.supportedConnectionTypes)
        ) {
          message.supportedConnectionTypes = message.supportedConnectionTypes.filter((type) => type !== 'websocket');
        }
      } else {
        this.release(identity?.address);
      }
    } else if (message.channel === '/meta/subscribe' || message.channel === '/meta/unsubscribe') {
      if (message.subscription !== undefined) {
        message.subscription = Array.isArray(message.subscription)
          ? message.subscription.map((s) => (typeof s === 'string' ? publicName(s) : s))
          : typeof message.subscription === 'string'
            ? publicName(message.subscription)
            : message.subscription;
      }
    } else if (!message.channel.startsWith('/meta/')) {
      if (message.channel.startsWith(CLIENT_PRIVATE))
        this.options.onHanded(message.channel.slice(CLIENT_PRIVATE.length), message.data);
      message.channel = publicName(message.channel);
    }
    if (typeof message.error === 'string') adviseOnRefusal(message);
    callback(message);
  }

  /** Why a message is refused before it is looked at (rate, depth, a revoked or mismatched client), if it is. */
  private limit(message: BayeuxMessage, request: BayeuxRequest): string | undefined {
    const wait = this.options.limits.rate?.addressWait(this.options.addressOf(request)) ?? 0;
    if (wait > 0) return `429:${wait}:Too many messages from this address; retry later`;
    if (this.countInBatch(request) > this.options.maxMessages)
      return `400::More than ${this.options.maxMessages} messages in one request`;
    if (depthExceeds(message, this.options.maxDepth))
      return `400::A message may not nest deeper than ${this.options.maxDepth} levels`;
    if (message.channel === '/meta/handshake' || typeof message.clientId !== 'string') return undefined;
    const identity = this.identities.get(message.clientId);
    if (identity?.revoked) return '401::This agent token is no longer valid';
    return identity ? this.bindLate(identity, request) : undefined;
  }

  /** A batch's messages all pass here in one turn of the event loop (HTTP batches are counted before, by the door). */
  private countInBatch(request: BayeuxRequest): number {
    const count = (this.inBatch.get(request) ?? 0) + 1;
    if (count === 1) setImmediate(() => this.inBatch.delete(request));
    this.inBatch.set(request, count);
    return count;
  }

  /**
   * A client that named no one at handshake (a browser's CometD client handshakes over websocket, which
   * carries no headers) is bound by the first of its later requests that carries a gms_user header:
   * its client id, known only to it, is what proves it is the same client. Once bound, never changed.
   */
  private bindLate(identity: Identity, request: BayeuxRequest): string | undefined {
    const header = headerUser(request);
    if (header === undefined) return undefined;
    if (header.length > MAX_GMS_USER_LENGTH) return `400::gms_user is longer than ${MAX_GMS_USER_LENGTH} characters`;
    if (identity.gmsUser === undefined && identity.agentToken === undefined) identity.gmsUser = header;
    else if (identity.gmsUser !== undefined && identity.gmsUser !== header)
      return "403::The gms_user header is not this client's";
    return undefined;
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

  private handshake(message: BayeuxMessage, request: BayeuxRequest | null): BayeuxMessage {
    const fromHeader = request ? headerUser(request) : undefined;
    const fromExt = typeof message.ext?.gms_user === 'string' && message.ext.gms_user !== '' ? message.ext.gms_user : undefined;
    if (fromHeader !== undefined && fromExt !== undefined && fromHeader !== fromExt) {
      message.error = '400::The gms_user header and ext.gms_user differ';
      return message;
    }
    const gmsUser = fromHeader ?? fromExt;
    if (gmsUser !== undefined && gmsUser.length > MAX_GMS_USER_LENGTH) {
      message.error = `400::gms_user is longer than ${MAX_GMS_USER_LENGTH} characters`;
      return message;
    }
    const identity: Identity = gmsUser !== undefined ? { gmsUser } : {};
    const token = message.ext?.token;
    if (token !== undefined) {
      if (typeof token !== 'string' || this.agent(token) === undefined) {
        message.error = '401::Unknown agent token';
        return message;
      }
      identity.agentToken = token;
    }
    if (!request) return message;
    const address = this.options.addressOf(request);
    if (!this.options.limits.rate?.isExempt(address)) {
      const live = this.clientsByAddress.get(address) ?? 0;
      if (live >= this.options.limits.maxClientsPerAddress) {
        message.error = `429:60:This address already holds ${live} CometD clients; disconnect one first`;
        return message;
      }
      this.clientsByAddress.set(address, live + 1);
      identity.address = address;
    }
    const queue = this.handshaking.get(request);
    if (queue) queue.push(identity);
    else this.handshaking.set(request, [identity]);
    return message;
  }

  private release(address: string | undefined): void {
    if (address === undefined) return;
    const live = (this.clientsByAddress.get(address) ?? 1) - 1;
    if (live > 0) this.clientsByAddress.set(address, live);
    else this.clientsByAddress.delete(address);
  }

  private subscription(message: BayeuxMessage): BayeuxMessage {
    const identity = (message.clientId && this.identities.get(message.clientId)) || {};
    const asked =
      message.subscription === undefined
        ? []
        : Array.isArray(message.subscription)
          ? message.subscription
          : [message.subscription];
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
    if (!message.clientId) return undefined;
    if (channel === CUSTOMER_CHANNEL) {
      return identity.gmsUser !== undefined ? clientChannel(message.clientId) : undefined;
    }
    if (channel.startsWith(CHAT_V2_PREFIX)) {
      const service = channel.slice(CHAT_V2_PREFIX.length);
      return this.options.onChatV2 && SERVICE_NAME.test(service) && this.identities.has(message.clientId)
        ? chatV2Channel(message.clientId, service)
        : undefined;
    }
    if (channel.startsWith(AGENT_PREFIX)) {
      const agentId = channel.slice(AGENT_PREFIX.length);
      const token = typeof message.ext?.token === 'string' ? message.ext.token : identity.agentToken;
      if (token === undefined || this.agent(token)?.id !== agentId || !this.identities.has(message.clientId)) return undefined;
      // The token proven here is the one whose endpoints the channel carries, and whose revocation ends it.
      identity.agentToken = token;
      return agentClientChannel(agentId, message.clientId);
    }
    return undefined;
  }

  private agent(token: string): Agent | undefined {
    if (token === '' || !this.options.agents) return undefined;
    return this.options.agents.authenticate(token);
  }

  /**
   * A customer going to the background: the client id may be one the server already dropped (apps
   * send it when they wake up), so the gms_user of the request names the customer too. A batch marks
   * each customer once.
   */
  private disconnect(message: BayeuxMessage, request: BayeuxRequest | null, callback: (message: BayeuxMessage) => void): void {
    const known = message.clientId ? this.identities.get(message.clientId)?.gmsUser : undefined;
    const fromExt = typeof message.ext?.gms_user === 'string' && message.ext.gms_user !== '' ? message.ext.gms_user : undefined;
    const gmsUser = known ?? (request ? headerUser(request) : undefined) ?? fromExt;
    const raw = message.ext?.transcriptPosition;
    const text = typeof raw === 'number' ? String(raw) : raw;
    if (gmsUser === undefined || gmsUser.length > MAX_GMS_USER_LENGTH || typeof text !== 'string' || !/^\d{1,15}$/.test(text))
      return callback(message);
    if (request) {
      let marked = this.awayInBatch.get(request);
      if (!marked) {
        this.awayInBatch.set(request, (marked = new Set()));
        // A batch's messages all pass here in one turn of the event loop.
        setImmediate(() => this.awayInBatch.delete(request));
      }
      if (marked.has(gmsUser)) return callback(message);
      marked.add(gmsUser);
    }
    // The reply waits for the away mark to be stored, so a client that returns at once finds it.
    this.options.onAway(gmsUser, Number(text)).then(
      () => callback(message),
      (err: unknown) => {
        this.options.log.warn({ err }, 'could not mark a CometD customer away');
        callback(message);
      },
    );
  }
}

function headerUser(request: BayeuxRequest): string | undefined {
  const header = request.headers.gms_user;
  return typeof header === 'string' && header !== '' ? header : undefined;
}

/** A refusal tells the client how to go on: rate limits when to retry, a revoked agent to stop. */
function adviseOnRefusal(message: BayeuxMessage): void {
  const rate = /^429:(\d+):/.exec(message.error as string);
  if (rate) {
    message.advice = {
      reconnect: message.channel === '/meta/handshake' ? 'handshake' : 'retry',
      interval: Number(rate[1]) * 1000,
    };
  } else if ((message.error as string).startsWith('401::This agent token')) {
    message.advice = { reconnect: 'none' };
  }
}
