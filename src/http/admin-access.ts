// Who may use the admin doors (the admin API, the admin page's calls and /metrics): a bearer token of
// ADMIN_TOKENS with its role, or, while no token is configured, any caller on this machine itself. These
// doors never answer CORS, and a write from a page of another site is refused (a browser would send it).

import type { Context, Next } from 'koa';
import type { AdminRole, AdminToken } from '../admin/admin-tokens.ts';
import { findAdmin } from '../admin/admin-tokens.ts';
import { GatewayError } from '../errors.ts';
import type { CorsPolicy } from './headers.ts';

export interface AdminCaller {
  /** The token's name, or `local` on an unlocked gateway: what the audit log records. */
  who: string;
  role: AdminRole;
  /** The caller's address, for the audit log. */
  address: string;
}

declare module 'koa' {
  interface DefaultState {
    admin?: AdminCaller;
  }
}

/** The admin doors; the router matches paths case-insensitively, so these are matched the same way. */
const ADMIN_PATH = /^\/(?:genesys\/1\/admin(?:\/|$)|metrics\/?$|admin(?:\/|$))/i;
const BEARER = /^Bearer[ ]+(\S+)[ ]*$/i;
const LOOPBACK = /^(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;
/** A proxy on this machine forwards others' requests: with these headers a loopback peer is not the caller. */
const FORWARDED = ['forwarded', 'x-forwarded-for', 'x-real-ip'];

export function isAdminPath(path: string): boolean {
  return ADMIN_PATH.test(path);
}

/** The CORS policy of the API, minus the admin doors: no browser page of another origin may read them. */
export function withoutCorsOnAdmin(cors: CorsPolicy): CorsPolicy {
  return (ctx) => (isAdminPath(ctx.path) ? false : cors(ctx));
}

export type Access = 'read' | 'write';

export class AdminAccess {
  constructor(private readonly tokens: readonly AdminToken[]) {}

  /** False on a fresh machine: no token configured, the admin doors answer loopback callers only. */
  get locked(): boolean {
    return this.tokens.length > 0;
  }

  /** Middleware letting through callers allowed `access`; 401 for no or a wrong token, 403 for too little a role. */
  require(access: Access): (ctx: Context, next: Next) => Promise<void> {
    return async (ctx, next) => {
      const caller = this.caller(ctx);
      if (access === 'write') {
        if (caller.role !== 'read-write') throw new GatewayError('Forbidden', `The admin token '${caller.who}' is read-only.`);
        refuseCrossSite(ctx);
      }
      ctx.state.admin = caller;
      await next();
    };
  }

  private caller(ctx: Context): AdminCaller {
    const address = ctx.req.socket.remoteAddress ?? '';
    const match = BEARER.exec(ctx.get('authorization'));
    if (!this.locked) {
      if (LOOPBACK.test(address) && !FORWARDED.some((h) => ctx.get(h) !== ''))
        return { who: 'local', role: 'read-write', address };
      throw unauthorized(
        "No admin token is configured (ADMIN_TOKENS), so the admin routes answer only on the gateway's own machine.",
      );
    }
    const admin = match ? findAdmin(this.tokens, match[1]) : undefined;
    if (!admin)
      throw unauthorized(match ? 'The admin token is not valid.' : 'Send an admin token as Authorization: Bearer <token>.');
    return { who: admin.name, role: admin.role, address };
  }
}

function unauthorized(message: string): GatewayError {
  return new GatewayError('Unauthorized', message, { headers: { 'WWW-Authenticate': 'Bearer realm="admin"' } });
}

/** A browser sends a form or fetch of another site with its cookies and from inside the network: never act on it. */
function refuseCrossSite(ctx: Context): void {
  const site = ctx.get('sec-fetch-site');
  const origin = ctx.get('origin');
  let sameOrigin = true;
  if (origin !== '') {
    try {
      sameOrigin = new URL(origin).host.toLowerCase() === ctx.host.toLowerCase();
    } catch {
      sameOrigin = false;
    }
  }
  if ((site !== '' && site !== 'same-origin' && site !== 'none') || !sameOrigin) {
    throw new GatewayError('Forbidden', 'Admin changes are not accepted from a page of another site.');
  }
}

/** The caller of a route behind `require` (always set there). */
export function adminOf(ctx: Context): AdminCaller {
  const caller = ctx.state.admin;
  if (!caller) throw unauthorized('Send an admin token as Authorization: Bearer <token>.');
  return caller;
}
