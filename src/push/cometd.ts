// The Bayeux (CometD) endpoint at /genesys/cometd: faye's Node adapter on the gateway's HTTP server,
// guarded by ChannelGuard, fed by ChatHub for customers, and the one way in for anything the gateway
// pushes (customers' chats, agents' channels).

import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import faye, { type BayeuxMessage } from 'faye';
import type { AgentDirectory } from '../endpoints/agents.ts';
import type { Logger } from '../log.ts';
import { agentChannel, ChannelGuard, clientChannel } from './channel-guard.ts';
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
}

export interface CometdEndpoint {
  /** Sends `data` to the subscribers of `/agent/{agentId}`; false when the id cannot name a channel. */
  publishToAgent(agentId: string, data: unknown): boolean;
  /** How many CometD clients are connected now (metrics). */
  clients(): number;
  /** Ends every long-poll and websocket, then stops the publisher. */
  close(): void;
}

export function attachCometd(options: CometdOptions): CometdEndpoint {
  const { log } = options;
  const timeoutSeconds = options.timeoutSeconds ?? 30;
  const adapter = new faye.NodeAdapter({ mount: COMETD_PATH, timeout: timeoutSeconds, ping: 25 });
  const secret = randomBytes(24).toString('base64url');
  const customers = new CustomerPush(options.chats, (channel, push) => publish(channel, push), log);
  const guard = new ChannelGuard({
    secret,
    maxPollMs: timeoutSeconds * 1000,
    ...(options.agents ? { agents: options.agents } : {}),
    log,
    onAway: (gmsUser, position) => customers.away(gmsUser, position),
  });
  adapter.addExtension(guard);

  adapter.on('subscribe', (clientId, channel) => {
    const gmsUser = guard.identity(clientId)?.gmsUser;
    if (gmsUser === undefined || channel !== clientChannel(clientId)) return;
    void customers.subscribed(clientId, gmsUser, channel);
  });
  adapter.on('unsubscribe', (clientId, channel) => {
    if (channel === clientChannel(clientId)) customers.gone(clientId);
  });
  adapter.on('disconnect', (clientId) => {
    customers.gone(clientId);
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
  adapter.attach(options.server);

  return {
    publishToAgent(agentId, data) {
      const channel = agentChannel(agentId);
      if (!channel) return false;
      publish(channel, data);
      return true;
    },
    clients: () => guard.connected,
    close() {
      stopHub();
      publisher.disconnect();
      adapter.close();
    },
  };
}
