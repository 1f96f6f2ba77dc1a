// The Bayeux (CometD) endpoint at /genesys/cometd: faye's Node adapter behind the gateway's door
// (bayeux-door.ts: bodies, batches, origins, websocket messages), guarded by ChannelGuard, fed by ChatHub
// for customers, and the one way out for anything the gateway pushes (customers' chats, agents' channels).

import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import faye, { type BayeuxMessage, type BayeuxRequest } from 'faye';
import type { AgentDirectory } from '../endpoints/agents.ts';
import type { Logger } from '../log.ts';
import { openBayeuxDoor } from './bayeux-door.ts';
import type { BayeuxLimits } from './bayeux-limits.ts';
import {
  agentOfChannel,
  ChannelGuard,
  chatV2Channel,
  clientChannel,
  isAgentClientChannel,
  type AddressLimits,
} from './channel-guard.ts';
import type { ChatHub } from './chat-hub.ts';
import { CustomerPush, type CometChats } from './customer-push.ts';

export const COMETD_PATH = '/genesys/cometd';

export interface CometdOptions {
  server: http.Server;
  hub: ChatHub;
  chats: CometChats;
  /** Without it no agent can subscribe to an agent channel. */
  agents?: AgentDirectory;
  log: Logger;
  /** Seconds a long-poll is held open when there is nothing to send. */
  timeoutSeconds?: number;
  /** Origins whose browser apps may call the endpoint (CORS); `*` allows any, the default. */
  corsOrigins?: string[];
  /** Largest HTTP body and websocket message, in bytes (64 kB by default). */
  bodyLimitBytes?: number;
  /** Messages per request and nesting depth (100 and 32 by default). */
  limits?: Partial<BayeuxLimits>;
  /** Per-address message rate and live clients (unlimited by default). */
  addressLimits?: AddressLimits;
  /** A request's client address (the socket's peer by default). */
  addressOf?: (request: BayeuxRequest) => string;
  /** Chat API v2's CometD mode (chat-v2-cometd.ts); without it `/service/chatV2/*` is refused. */
  chatV2?: {
    handle(clientId: string, service: string, data: unknown, address: string | undefined): Promise<void>;
    gone(clientId: string): void;
  };
}

export interface CometdEndpoint {
  /**
   * Sends `data` to the agent clients subscribed to `/agent/{agentId}` whose token serves `endpoint`;
   * false when the id cannot name a channel.
   */
  publishToAgent(agentId: string, endpoint: string, data: unknown): boolean;
  /** The endpoint files changed: agent clients whose token no longer holds are told so and get nothing more. */
  agentsChanged(): void;
  /** How many CometD clients are connected now (metrics). */
  clients(): number;
  /** Agent id → CometD clients of this node subscribed to its channel now (admin page). */
  agentsConnected(): Record<string, number>;
  /** Sends a Chat API v2 answer or notification to one client's `/service/chatV2/<service>`. */
  deliverChatV2(clientId: string, service: string, data: unknown): void;
  /**
   * Ends every long-poll and websocket, then stops the publisher; resolves once the customers connected
   * here are recorded as gone, with what they were handed (customer-push.ts `stop`).
   */
  close(): Promise<void>;
}

const AGENT_ID_SHAPE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

interface AgentClient {
  agentId: string;
  endpoints: string[];
  channel: string;
}

export function attachCometd(options: CometdOptions): CometdEndpoint {
  const { log } = options;
  const timeoutSeconds = options.timeoutSeconds ?? 30;
  const limits: BayeuxLimits = { maxMessages: 100, maxDepth: 32, ...options.limits };
  const adapter = new faye.NodeAdapter({ mount: COMETD_PATH, timeout: timeoutSeconds, ping: 25 });
  const secret = randomBytes(24).toString('base64url');
  const customers = new CustomerPush(options.chats, (channel, push) => publish(channel, push), log);
  const agentClients = new Map<string, AgentClient>();
  const guard = new ChannelGuard({
    secret,
    maxPollMs: timeoutSeconds * 1000,
    maxDepth: limits.maxDepth,
    maxMessages: limits.maxMessages,
    ...(options.agents ? { agents: options.agents } : {}),
    addressOf: options.addressOf ?? ((request) => request.socket.remoteAddress ?? ''),
    limits: options.addressLimits ?? { maxClientsPerAddress: Infinity },
    log,
    onAway: (gmsUser, position) => customers.away(gmsUser, position),
    onConnect: (clientId) => customers.askedForMore(clientId),
    onHanded: (clientId, data) => customers.handedOver(clientId, data),
    ...(options.chatV2
      ? {
          onChatV2: (clientId: string, service: string, data: unknown, address: string | undefined) => {
            options
              .chatV2!.handle(clientId, service, data, address)
              .catch((err: unknown) => log.error({ err }, 'a Chat API v2 CometD operation failed'));
          },
        }
      : {}),
  });
  adapter.addExtension(guard);

  // Which agents listen on this node, for the admin page: client id → the agent channels it holds.
  const agentListeners = new Map<string, Set<string>>();
  adapter.on('subscribe', (clientId, channel) => {
    const agentId = agentOfChannel(channel);
    if (agentId !== undefined) {
      let held = agentListeners.get(clientId);
      if (!held) agentListeners.set(clientId, (held = new Set()));
      held.add(agentId);
    }
  });
  adapter.on('unsubscribe', (clientId, channel) => {
    const agentId = agentOfChannel(channel);
    if (agentId !== undefined) agentListeners.get(clientId)?.delete(agentId);
  });
  adapter.on('disconnect', (clientId) => agentListeners.delete(clientId));

  adapter.on('subscribe', (clientId, channel) => {
    if (isAgentClientChannel(channel)) {
      const agent = guard.agentOf(clientId);
      if (agent) agentClients.set(clientId, { agentId: agent.id, endpoints: agent.endpoints, channel });
      return;
    }
    const gmsUser = guard.identity(clientId)?.gmsUser;
    if (gmsUser === undefined || channel !== clientChannel(clientId)) return;
    void customers.subscribed(clientId, gmsUser, channel);
  });
  adapter.on('unsubscribe', (clientId, channel) => {
    if (channel === clientChannel(clientId)) customers.gone(clientId);
    if (agentClients.get(clientId)?.channel === channel) agentClients.delete(clientId);
  });
  adapter.on('disconnect', (clientId) => {
    customers.gone(clientId);
    options.chatV2?.gone(clientId);
    agentClients.delete(clientId);
    guard.forget(clientId);
  });

  // The gateway publishes through faye's in-process client, which carries the secret that ChannelGuard
  // requires of every publish: no remote client can publish, on any channel.
  const publisher = adapter.getClient();
  publisher.addExtension({
    outgoing(message: BayeuxMessage, callback: (message: BayeuxMessage) => void) {
      message.ext = { ...message.ext, secret };
      callback(message);
    },
  });
  function publish(channel: string, data: unknown): void {
    publisher.publish(channel, data).then(undefined, (err) => {
      log.error({ channel, err: err?.message }, 'a CometD push could not be published');
    });
  }

  const stopHub = options.hub.subscribe(customers.chatUpdated);
  const door = openBayeuxDoor({
    server: options.server,
    adapter,
    corsOrigins: options.corsOrigins ?? ['*'],
    bodyLimitBytes: options.bodyLimitBytes ?? 64 * 1024,
    limits,
    log,
  });

  return {
    publishToAgent(agentId, endpoint, data) {
      if (!AGENT_ID_SHAPE.test(agentId)) return false;
      for (const client of agentClients.values()) {
        // An agent id may be listed in several endpoint files under different tokens: each token's
        // clients hear only of the endpoints that token serves.
        if (client.agentId === agentId && client.endpoints.includes(endpoint)) publish(client.channel, data);
      }
      return true;
    },
    agentsChanged() {
      for (const [clientId, client] of agentClients) {
        const agent = guard.agentOf(clientId);
        if (agent && agent.id === client.agentId) {
          client.endpoints = agent.endpoints;
          continue;
        }
        agentClients.delete(clientId);
        guard.revoke(clientId);
        publish(client.channel, { type: 'revoked' });
        log.info({ agentId: client.agentId }, "an agent's CometD subscription ended: its token was revoked or rotated");
      }
    },
    deliverChatV2(clientId, service, data) {
      publish(chatV2Channel(clientId, service), data);
    },
    clients: () => guard.connected,
    agentsConnected() {
      const counts: Record<string, number> = {};
      for (const held of agentListeners.values()) for (const id of held) counts[id] = (counts[id] ?? 0) + 1;
      return counts;
    },
    async close() {
      stopHub();
      door.close();
      const recorded = customers.stop();
      publisher.disconnect();
      adapter.close();
      await recorded;
    },
  };
}
