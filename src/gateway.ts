// Wiring only: the store, the registries and their watchers, the chat domain, the Koa app, the HTTP
// server and the CometD adapter, started and stopped in the right order.

import { randomBytes } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { isFileKey } from './chat/chat-files.ts';
import { ChatDomain, EXPIRY_GRACE_MS } from './chat/chat-service.ts';
import { ExpirySweeper } from './chat/expiry.ts';
import { checkStoreLayout } from './chat/store-layout.ts';
import type { Clock, ServiceLookup } from './chat/types.ts';
import { Registry } from './config/registry.ts';
import { loadServiceFile, serviceNotices, type ServiceDefinition } from './config/service-file.ts';
import { ConfigWatcher } from './config/watcher.ts';
import { AgentDesk } from './endpoints/agent-desk.ts';
import { pushToAgents, type AgentPushMessage } from './endpoints/agent-push.ts';
import type { AgentDirectory } from './endpoints/agents.ts';
import { EndpointDirectory } from './endpoints/endpoint-directory.ts';
import { loadEndpointFile, publicEndpoint, redactAgentTokens, type EndpointDefinition } from './endpoints/endpoint-file.ts';
import { QueueRouter } from './endpoints/queue-router.ts';
import { demoAgentsLive } from './endpoints/demo-agents.ts';
import { AdminAccess, withoutCorsOnAdmin } from './http/admin-access.ts';
import { agentRoutes } from './http/agent-routes.ts';
import { endpointAdminRoutes } from './http/endpoint-admin-routes.ts';
import { adminRoutes } from './http/admin-routes.ts';
import { HEALTH_PATH, healthProbe } from './http/health-probe.ts';
import { adminApiRoutes } from './http/admin-api.ts';
import { adminOverviewRoutes } from './http/admin-overview.ts';
import { ConfigEditor } from './admin/config-editor.ts';
import { ConfigSync } from './admin/config-sync.ts';
import { paramsReader } from './http/body.ts';
import { edge } from './http/edge.ts';
import { chatV2Routes } from './http/chat-v2-routes.ts';
import { gmsRoutes } from './http/gms-routes.ts';
import { openApiRoutes } from './http/openapi.ts';
import { isUploadRequest } from './http/upload.ts';
import { webPages } from './http/web-pages.ts';
import { answerClientErrors } from './http/client-errors.ts';
import { GatewayMetrics } from './http/metrics.ts';
import { RateLimiter } from './http/rate-limit.ts';
import { clientAddress } from './http/client-address.ts';
import { corsPolicy } from './http/headers.ts';
import { createLogger, type Logger } from './log.ts';
import { PushDrainer } from './notify/drain.ts';
import { Outbox } from './notify/outbox.ts';
import { loadProviderFile, publicProvider, type ProviderDefinition } from './notify/provider-file.ts';
import { Senders } from './notify/senders.ts';
import { OutageLog } from './outage-log.ts';
import { ChatHub } from './push/chat-hub.ts';
import { ChatV2Cometd } from './push/chat-v2-cometd.ts';
import { attachCometd, type CometdEndpoint } from './push/cometd.ts';
import { RedisBridge } from './push/redis-bridge.ts';
import type { Settings } from './settings.ts';
import { isRedisUrl, openStore, sqliteDiskUse, sqliteFile } from './store/open-store.ts';
import type { Store } from './store/store.ts';

export interface Gateway {
  server: http.Server;
  /** `http://host:port` the gateway listens on. */
  url: string;
  services: Registry<ServiceDefinition>;
  endpoints: Registry<EndpointDefinition>;
  agents: AgentDirectory;
  domain: ChatDomain;
  /** Ends expired sessions while this node holds the sweep lease, and keeps the chat census. */
  sweeper: ExpirySweeper;
  /** The push notification providers of push.d/. */
  pushProviders: Registry<ProviderDefinition>;
  /** Sends the notifications of the chats' outboxes. */
  pushDrainer: PushDrainer;
  hub: ChatHub;
  /** The Bayeux endpoint at /genesys/cometd: agent channels are published through it. */
  cometd: CometdEndpoint;
  store: Store;
  log: Logger;
  /** Every route the HTTP routers serve, `{param}` style (the OpenAPI test compares them with the document). */
  routes: Array<{ path: string; methods: string[] }>;
  /** Waits for every pending config change to be applied (tests). */
  settled(): Promise<void>;
  /**
   * Stops accepting, lets requests in flight finish (for up to STOP_TIMEOUT_MS, then cuts them off), then
   * closes the watchers and the store.
   */
  close(): Promise<void>;
}

export interface GatewayOptions {
  /**
   * The gateway's time: sessions' expiresAt and ttl, the expiry sweep, customers' idle time. Tests pass a
   * clock they move forward; the store's own expiry of its keys (keyv's, Redis's) stays on real time, a
   * backstop well behind expiresAt.
   */
  clock?: Clock;
}

export async function startGateway(
  settings: Settings,
  log: Logger = createLogger(settings.logLevel),
  { clock = Date }: GatewayOptions = {},
): Promise<Gateway> {
  // With Redis, one connection serves the sessions, their locks and the cross-node bridge. Its client is
  // loaded only then: the embedded store's start does not pay for it.
  const redis = isRedisUrl(settings.storeUrl)
    ? await (await import('./store/redis-connection.ts')).RedisConnection.open({ url: settings.storeUrl, log })
    : undefined;
  // Files are as large as a service allows: the SQLite store's cache of hot values never keeps them.
  const store = await openStore({
    url: settings.storeUrl,
    prefix: settings.storePrefix,
    log,
    redis,
    // Hot values kept in memory: for the embedded file alone, which no other process writes.
    ...(sqliteFile(settings.storeUrl) ? { cacheEntries: settings.storeCacheEntries } : {}),
    cacheable: (key) => !isFileKey(key),
  });
  try {
    await checkStoreLayout(store);
  } catch (err) {
    await store.close();
    await redis?.close();
    throw err;
  }

  // Read only at scrape time, once the sweeper and the CometD endpoint below exist.
  const storeFile = sqliteFile(settings.storeUrl);
  const metrics = new GatewayMetrics({
    chats: () => sweeper.census(),
    cometdClients: () => attached?.clients() ?? 0,
    ...(storeFile ? { storeDisk: () => sqliteDiskUse(storeFile) } : {}),
  });
  const node = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const services = new Registry<ServiceDefinition>();
  const endpoints = new Registry<EndpointDefinition>();
  // Admin API changes made on other nodes (or while this one was down) are written into the folders
  // before the watchers read them; the watchers exist by the time the sync follows changes.
  const configSync = new ConfigSync({
    store,
    node,
    log,
    folders: {
      service: {
        dir: settings.servicesDir,
        reload: (file) => serviceWatcher.reload(file),
        fileOf: (name) => fileOf(services, name),
      },
      endpoint: {
        dir: settings.endpointsDir,
        reload: (file) => endpointWatcher.reload(file),
        fileOf: (name) => fileOf(endpoints, name),
      },
    },
    loaded: () => JSON.stringify([services.list().map((e) => [e.name, e.value]), endpoints.list().map((e) => [e.name, e.value])]),
  });
  await configSync.start();
  const serviceWatcher = new ConfigWatcher({
    dir: settings.servicesDir,
    kind: 'service',
    load: loadServiceFile,
    notices: serviceNotices,
    registry: services,
    log,
    settleMs: settings.reloadSettleMs,
    onChange: metrics.configChanged('service'),
  });
  await serviceWatcher.start();
  const lookup: ServiceLookup = (name) => services.get(name);

  // Attached once the HTTP server exists; the endpoint watcher's first load happens before.
  let attached: CometdEndpoint | undefined;
  const endpointWatcher = new ConfigWatcher({
    dir: settings.endpointsDir,
    kind: 'endpoint',
    load: loadEndpointFile,
    describe: publicEndpoint,
    registry: endpoints,
    log,
    settleMs: settings.reloadSettleMs,
    onChange: (change) => {
      metrics.configChanged('endpoint')(change);
      // A token revoked or rotated ends its agent's live CometD subscriptions at once.
      attached?.agentsChanged();
    },
  });
  await endpointWatcher.start();
  configSync.follow();
  const pushProviders = new Registry<ProviderDefinition>();
  const pushWatcher = new ConfigWatcher({
    dir: settings.push.dir,
    kind: 'provider',
    load: loadProviderFile,
    describe: publicProvider,
    registry: pushProviders,
    log,
    settleMs: settings.reloadSettleMs,
    onChange: metrics.configChanged('provider'),
  });
  await pushWatcher.start();
  const pushRule = {
    awayMs: settings.push.awayMs,
    coalesceMs: settings.push.coalesceMs,
    minIntervalMs: settings.push.minIntervalMs,
  };
  const agents = new EndpointDirectory(endpoints);
  const access = new AdminAccess(settings.adminTokens);
  warnOfOpenDoors(access, endpoints, log);

  const hub = new ChatHub(log);
  const bridge = redis ? await RedisBridge.start({ redis, prefix: settings.storePrefix, hub, log }) : undefined;
  const router = new QueueRouter(store, (name) => agents.status(name));
  const domain = new ChatDomain({
    store,
    services: lookup,
    router,
    listener: hub,
    clock,
    limits: { maxTranscriptEvents: settings.maxTranscriptEvents },
    clientLimits: settings.perAddress,
    push: pushRule,
  });

  // Koa's own view of the client (ctx.ip) follows the same proxy settings as clientAddress.
  const app = new Koa({ proxy: settings.proxy.trust, proxyIpHeader: settings.proxy.ipHeader, maxIpsCount: settings.proxy.hops });
  app.silent = true;
  const limits = new RateLimiter(settings.rateLimit);
  app.use(healthProbe(services));
  app.use(
    edge({
      metrics,
      log,
      cors: withoutCorsOnAdmin(corsPolicy(settings.corsOrigins)),
      limits,
      addressOf: (req) => clientAddress(req, settings.proxy),
      params: paramsReader({ limitBytes: settings.bodyLimitBytes, leaveBody: isUploadRequest }),
    }),
  );
  const desk = new AgentDesk(domain, router, store, lookup, agents);
  const endpointAdmin = endpointAdminRoutes(endpoints, router, access);
  const serviceEditor = new ConfigEditor({
    kind: 'service',
    dir: settings.servicesDir,
    load: loadServiceFile,
    registry: services,
    reload: (file) => serviceWatcher.reload(file),
    log,
    catchUp: () => configSync.catchUp(),
    commit: (change) => configSync.record(change),
  });
  const endpointEditor = new ConfigEditor({
    kind: 'endpoint',
    dir: settings.endpointsDir,
    load: loadEndpointFile,
    registry: endpoints,
    reload: (file) => endpointWatcher.reload(file),
    log,
    catchUp: () => configSync.catchUp(),
    commit: (change) => configSync.record(change),
    redact: redactAgentTokens,
  });
  const adminApi = adminApiRoutes(
    [
      { segment: 'services', editor: serviceEditor, registry: services, show: (value) => value },
      { segment: 'endpoints', editor: endpointEditor, registry: endpoints, show: publicEndpoint },
    ],
    access,
  );
  // No two routers serve the same path, so their order only sets how many are tried per request: the
  // customers' calls first, by far the most frequent.
  // Each customer protocol takes new chats only for the services that answer it (chatApiVersions).
  const v1Lookup: ServiceLookup = (name) => {
    const service = services.get(name);
    return service?.chatApiVersions.includes(1) ? service : undefined;
  };
  const gms = gmsRoutes(domain, v1Lookup, limits);
  const routers = [
    gms.router,
    chatV2Routes(domain, (name) => services.get(name), limits),
    adminRoutes(services, access),
    metrics.routes(access.require('read')),
    agentRoutes(desk, agents, domain),
    endpointAdmin,
    adminApi,
    adminOverviewRoutes(
      {
        endpoints,
        census: () => sweeper.census(),
        agentsConnected: () => cometd.agentsConnected(),
        node: () => node,
        nodes: () => configSync.nodes(),
      },
      access,
    ),
    // The demo widget speaks the GMS API, so it reads the services that answer it.
    webPages(v1Lookup),
    openApiRoutes(),
  ];
  // The customers' POSTs are served before any router is tried; other methods go on to the routers' 405.
  app.use(gms.dispatch);
  // One 405/501 check for all routers: it reads every route any of them matched (ctx.matched), so one
  // layer answers as six did, without five more middleware on every request.
  app.use(routers[0].allowedMethods({ throw: true }));
  for (const router of routers) app.use(router.routes());

  const handle = app.callback();
  const server = http.createServer(
    // Slow clients cannot hold a connection: headers and the whole request must arrive in time.
    {
      headersTimeout: Math.min(settings.timeouts.headersMs, settings.timeouts.requestMs),
      requestTimeout: settings.timeouts.requestMs,
      // Node checks those timeouts on this interval (30 s by default, far too coarse for them).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(settings.timeouts.headersMs / 4))),
    },
    // Koa's handler answers every error itself; the promise it returns never rejects.
    (req, res) => void handle(req, res),
  );
  server.keepAliveTimeout = settings.timeouts.keepAliveMs;
  answerClientErrors(server);
  // Chat API v2's CometD mode answers through the endpoint it is attached to.
  const chatV2Push = new ChatV2Cometd(
    domain,
    (name) => services.get(name),
    (clientId, service, data) => cometd.deliverChatV2(clientId, service, data),
    log,
  );
  const stopChatV2Push = hub.subscribe(chatV2Push.chatUpdated);
  const cometd = attachCometd({
    server,
    hub,
    chatV2: chatV2Push,
    chats: domain,
    agents,
    log,
    corsOrigins: settings.corsOrigins,
    bodyLimitBytes: settings.bodyLimitBytes,
    limits: { maxMessages: settings.cometd.maxMessages },
    // The API's per-address buckets: one token per Bayeux message, whichever door a client knocks at.
    addressLimits: { rate: limits, maxClientsPerAddress: settings.cometd.maxClientsPerAddress },
    addressOf: (req) => clientAddress(req, settings.proxy),
  });
  attached = cometd;
  const endpointOf = (message: AgentPushMessage): string =>
    message.type === 'waiting' ? message.chat.endpoint : message.endpoint;
  const stopAgentPush = pushToAgents({
    hub,
    agents,
    waitingChat: (chatSessionId) => desk.waitingChat(chatSessionId),
    isReady: (agentId) => desk.isReady(agentId),
    publish: (agent, message) => void cometd.publishToAgent(agent.id, endpointOf(message), message),
    log,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;

  // One node at a time sweeps (a lease in the store); its census feeds every node's /metrics.
  // A store outage would otherwise log a failed sweep every interval.
  const sweepOutage = new OutageLog(log, { down: 'could not end expired chats', back: 'expired chats are ended again' });
  const sweeper = new ExpirySweeper({
    store,
    clock,
    sessions: domain,
    node,
    intervalMs: settings.sweepIntervalMs,
    endpoints: () => endpoints.list().map((entry) => entry.name),
    idleRule: (service) => services.get(service)?.customerIdle,
    reminderSeconds: (service) => services.get(service)?.agentReminderSeconds,
    services: () => services.list().map((entry) => entry.name),
    scanIntervalMs: settings.sweepScanIntervalMs,
    onLeadChange: (leading) =>
      log.info({ node }, leading ? 'this node now ends expired chats for the cluster' : 'this node no longer ends expired chats'),
    onSweep: (result) => metrics.sweepDone(result),
    onError: (err) => sweepOutage.failed(err),
    onReached: () => sweepOutage.recovered(),
  });
  sweeper.start();
  const pushOutage = new OutageLog(log, {
    down: 'could not send push notifications: the outbox cannot be read',
    back: 'push notifications are sent again',
  });
  const pushDrainer = new PushDrainer({
    outbox: new Outbox(store, EXPIRY_GRACE_MS, pushRule),
    // Due times are the chats' time; what providers check (JWT iat, signature timestamps) is real time.
    clock,
    providers: () => pushProviders.list().map((entry) => entry.value),
    send: new Senders(Date).send,
    intervalMs: settings.push.drainIntervalMs,
    claimMs: settings.push.claimMs,
    retry: settings.push.retry,
    onOutcome: (provider, outcome) => metrics.pushed(provider, outcome),
    onError: (err) => pushOutage.failed(err),
    onReached: () => pushOutage.recovered(),
    log,
  });
  pushDrainer.start();

  let closing: Promise<void> | undefined;
  return {
    server,
    url,
    services,
    endpoints,
    agents,
    domain,
    sweeper,
    pushProviders,
    pushDrainer,
    hub,
    cometd,
    store,
    log,
    routes: [
      { path: HEALTH_PATH, methods: ['GET'] },
      ...routers.flatMap((r) =>
        r.stack
          .filter((layer) => layer.methods.length > 0)
          .map((layer) => ({
            path: String(layer.path).replace(/:(\w+)/g, '{$1}'),
            methods: layer.methods.filter((m) => m !== 'HEAD'),
          })),
      ),
    ],
    settled: async () => {
      await serviceWatcher.settled();
      await endpointWatcher.settled();
      await pushWatcher.settled();
    },
    close() {
      closing ??= (async () => {
        await sweeper.stop();
        await pushDrainer.stop();
        // Long-polls and websockets end first, or the server would wait for them to time out.
        stopAgentPush();
        stopChatV2Push();
        await cometd.close();
        await new Promise<void>((resolve) => {
          // A keep-alive connection busy now would otherwise be served for as long as its client sends:
          // every later answer tells the client to close it, and connections that fall idle are closed.
          server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
            if (!res.headersSent) res.setHeader('Connection', 'close');
          });
          const idle = setInterval(() => server.closeIdleConnections(), 50);
          // A client that keeps a request open (a slow upload, a stalled reader) cannot hold the stop forever.
          const deadline = setTimeout(() => {
            log.warn({ afterMs: settings.timeouts.stopMs }, 'stopping: requests still open were cut off');
            server.closeAllConnections();
          }, settings.timeouts.stopMs);
          server.close(() => {
            clearInterval(idle);
            clearTimeout(deadline);
            resolve();
          });
        });
        await serviceWatcher.close();
        await endpointWatcher.close();
        await pushWatcher.close();
        await bridge?.close();
        await configSync.close();
        await store.close();
        await redis?.close();
      })();
      return closing;
    },
  };
}

function fileOf<T>(registry: Registry<T>, name: string): string | undefined {
  return registry.list().find((e) => e.name === name)?.file;
}

/** Loud at every start while the admin doors are unlocked or the published demo agent tokens are accepted. */
function warnOfOpenDoors(access: AdminAccess, endpoints: Registry<EndpointDefinition>, log: Logger): void {
  if (!access.locked) {
    log.warn(
      'no admin token is configured (ADMIN_TOKENS): the admin API, the admin page and /metrics answer anyone on this machine, ' +
        'with full rights, and nobody else; set ADMIN_TOKENS before putting a proxy on this machine in front of the gateway',
    );
  }
  const demo = demoAgentsLive(endpoints);
  if (demo.length > 0) {
    log.warn(
      { agents: demo },
      `the demo agent tokens printed in the README are live (${demo.join(', ')}): anyone can sign in as these agents; replace their hashes (npm run hash-token)`,
    );
  }
}
