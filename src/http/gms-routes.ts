// The customer's wire protocol (spec §1 and §2): create a service session, then the Chat API v1.
// Each route reads its parameters, calls the chat domain, and shapes the chat response.

import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { parsePosition, type ChatDomain, type ChatView, type StartParams } from '../chat/chat-service.ts';
import { chatResponse, verboseExtras } from '../chat/transcript.ts';
import { checkedGmsUser } from '../chat/gms-user.ts';
import type { ServiceLookup } from '../chat/types.ts';
import { NAME_PATTERN } from '../config/config-file.ts';
import { GatewayError } from '../errors.ts';
import { flag, type Params } from './body.ts';
import { customerPaths } from './customer-paths.ts';
import { answerJson } from './json-answer.ts';
import type { RateLimiter } from './rate-limit.ts';
import { PUSH_PARAMS, pushRegistration } from '../notify/registration.ts';

export const BASE = '/genesys/1/service';

/** The parameter by which a client asks request-chat for this gateway's extras (ours). */
export const GATEWAY_EXTRAS = '_gateway_extras';

/** The customer's names, as a chat start takes them. */
const NAME_PARAMS = ['firstName', 'lastName', 'email', 'subject', 'userDisplayName'] as const;

/** Chat-start parameters with a meaning of their own; every other key is user data. */
const START_PARAMS: ReadonlySet<string> = new Set([
  '_verbose',
  'notify_by',
  ...NAME_PARAMS,
  // Mobile push registration (notify/registration.ts): named parameters, not user data.
  ...PUSH_PARAMS,
]);

/** Request-chat parameters that are not the session's data. */
const CREATE_PARAMS: ReadonlySet<string> = new Set(['_verbose', GATEWAY_EXTRAS]);

/** One customer call, given the parameter of its path (the service name, or the session id). */
type Call = (ctx: Context, param: string) => Promise<void>;

/** The customer's routes: a router (the route list, and the 405 of other methods) and the dispatcher that serves their POSTs. */
export interface GmsRoutes {
  router: Router;
  /** Serves the customer's calls ahead of the routers, without their per-request matching; passes the rest on. */
  dispatch: (ctx: Context, next: Next) => Promise<void>;
}

export function gmsRoutes(domain: ChatDomain, services: ServiceLookup, limits: RateLimiter): GmsRoutes {
  const create: Call = async (ctx, name) => {
    const service = NAME_PATTERN.test(name) ? services(name) : undefined;
    if (!service) throw new GatewayError('ServiceNotFound', `No service named '${name}' is loaded.`);
    const params = ctx.state.params;
    const data = withoutKeys(params, CREATE_PARAMS);
    const session = await domain.createSession(service, data, gmsUser(ctx), limits.capped(ctx.state.clientAddress));
    // GMS answers these two keys, _verbose or not; clients whose JSON mappers refuse unknown keys
    // (Jackson's default) break on anything more, so our extras come only to a client asking for them.
    answerJson(ctx, {
      _id: session.id,
      '_chatIxnAPI-CREATE-URL': `${BASE}/${session.id}/ixn/chat`,
      ...(flag(params[GATEWAY_EXTRAS])
        ? { _service: service.name, _ttl: service.ttl, _endpoint: service.endpoint, _data: data }
        : {}),
    });
  };

  const calls: Record<string, Call> = {
    '/:name': create,
    '/:id/ixn/chat': async (ctx, id) => {
      const p = ctx.state.params;
      const start: StartParams = { userData: withoutKeys(p, START_PARAMS), client: limits.capped(ctx.state.clientAddress) };
      const push = pushRegistration(p);
      if (push) start.push = push;
      for (const key of NAME_PARAMS) if (p[key] !== undefined) start[key] = p[key];
      if (p.notify_by !== undefined) start.notifyBy = p.notify_by;
      respond(ctx, await domain.startChat(id, gmsUser(ctx), start));
    },
    '/:id/ixn/chat/send': async (ctx, id) => respond(ctx, await domain.send(id, gmsUser(ctx), ctx.state.params.message)),
    '/:id/ixn/chat/refresh': async (ctx, id) => {
      const p = ctx.state.params;
      respond(ctx, await domain.refresh(id, gmsUser(ctx), parsePosition(p.transcriptPosition), p.message));
    },
    '/:id/ixn/chat/refreshFromStart': async (ctx, id) => respond(ctx, await domain.refresh(id, gmsUser(ctx), 0)),
    '/:id/ixn/chat/startTyping': async (ctx, id) => respond(ctx, await domain.typing(id, gmsUser(ctx), true)),
    '/:id/ixn/chat/stopTyping': async (ctx, id) => respond(ctx, await domain.typing(id, gmsUser(ctx), false)),
    '/:id/ixn/chat/disconnect': async (ctx, id) =>
      respond(ctx, await domain.disconnect(id, gmsUser(ctx), ctx.state.params.message)),
  };

  // The per-session limit is keyed by the session id the path names, decoded, so that no other spelling
  // of the same path (case, percent-encoding) gets a bucket of its own.
  const call = (ctx: Context, route: string, param: string): Promise<void> => {
    if (route !== '/:name') limits.checkSession(ctx.state.clientAddress, param);
    return calls[route](ctx, param);
  };

  const router = new Router({ prefix: BASE });
  for (const route of Object.keys(calls)) {
    router.post(route, (ctx) => call(ctx, route, route === '/:name' ? ctx.params.name : ctx.params.id));
  }
  const match = customerPaths(BASE, Object.keys(calls));
  return {
    router,
    dispatch: (ctx, next) => {
      const found = ctx.method === 'POST' ? match(ctx.path) : undefined;
      if (!found) return next();
      // Named as the router would name it, for the request metrics.
      ctx._matchedRoute = BASE + found.route;
      return call(ctx, found.route, found.param);
    },
  };
}

function respond(ctx: Context, view: ChatView): void {
  const body = chatResponse(view.chat, view.events, view.position);
  answerJson(
    ctx,
    flag(ctx.state.params._verbose)
      ? { ...body, ...verboseExtras(view.session, view.chat), ...chatServerFields(ctx, view) }
      : body,
  );
}

/**
 * The verbose fields GMS copies from its Chat Server connection (the public Android client maps
 * them), with this gateway's honest values: the chat server is the gateway itself, reached the way
 * this request reached it, with no Chat Server load balancer in between.
 */
function chatServerFields(ctx: Context, view: ChatView): Record<string, string | number | boolean> {
  const port = Number(ctx.host.match(/:(\d+)$/)?.[1] ?? (ctx.secure ? 443 : 80));
  return {
    checkChatServiceLoadBalancerPath: '',
    chatServerLoadBalancerAlias: '',
    chatServerHost: ctx.hostname,
    chatWebApiPort: port,
    isTLSrequired: ctx.secure,
    // Times in the chat response are UTC; a client that gave its own offset at the start gets it back.
    clientTimeZoneOffset: view.chat.customer.userData.clientTimeZoneOffset ?? '0',
  };
}

export function gmsUser(ctx: Context): string | undefined {
  const value = ctx.get('gms_user');
  return value === '' ? undefined : checkedGmsUser(value);
}

function withoutKeys(params: Params, keys: ReadonlySet<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in params) if (!keys.has(k)) out[k] = params[k];
  return out;
}
