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
  /** Origins whose browser apps may call the endpoint (CORS); `*` allows any, the default. */
  corsOrigins?: string[];
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
  // faye sees every request before Koa and parses its URL to match the mount. A URL without the word
  // "cometd" cannot parse to a path under the mount (parsing adds no letters: Node rejects the tabs and
  // newlines WHATWG parsing would strip), so the API's requests skip that parse.
  const check = adapter.check.bind(adapter);
  adapter.check = (request) => request.url?.includes('cometd') === true && check(request);
  adapter.attach(options.server);
  answerPreflights(options.server, options.corsOrigins ?? ['*']);

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

// Browsers' CometD clients (faye's, CometD's) send credentials cross-origin, so an allowed origin is
// echoed with Allow-Credentials rather than '*'; the headers are those the clients and customer apps set.
const PREFLIGHT_HEADERS = 'gms_user, Content-Type, Authorization, Accept, Pragma, X-Requested-With';

/**
 * faye answers CORS preflights itself, for any origin and without the gms_user header that customer
 * apps send on the handshake (spec §CORS), so a browser app on another origin could not handshake.
 * Preflights of the Bayeux path are answered here, in front of faye, with the gateway's allowed origins.
 */
function answerPreflights(server: http.Server, origins: string[]): void {
  const listeners = server.listeners('request') as ((req: http.IncomingMessage, res: http.ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', function (this: http.Server, req: http.IncomingMessage, res: http.ServerResponse) {
    if (req.method !== 'OPTIONS' || !onBayeuxPath(req.url)) {
      for (const listener of listeners) listener.call(this, req, res);
      return;
    }
    const origin = req.headers.origin;
    const headers: Record<string, string> = { Pragma: 'no-cache', 'Cache-Control': 'no-cache, no-store', Vary: 'Origin' };
    if (origin && (origins.includes('*') || origins.includes(origin))) {
      Object.assign(headers, {
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Credentials': 'true',
        'Access-Control-Allow-Headers': PREFLIGHT_HEADERS,
        'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
        'Access-Control-Max-Age': '600',
      });
    }
    // Answered once every 'request' listener has run, as Koa and faye answer: a later listener (the
    // shutdown's Connection: close) may still set a header.
    queueMicrotask(() => res.writeHead(204, headers).end());
  });
}

function onBayeuxPath(url: string | undefined): boolean {
  const path = (url ?? '').split('?')[0]!;
  return path === COMETD_PATH || path.startsWith(`${COMETD_PATH}/`);
}
