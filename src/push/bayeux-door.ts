// The way into the Bayeux endpoint: every HTTP request and websocket upgrade for /genesys/cometd passes
// here before faye sees it. Bodies are read here, bounded by BODY_LIMIT_BYTES, and their messages counted
// and their nesting checked; origins are held to CORS_ORIGINS (preflights, requests, JSONP, upgrades);
// websocket messages are bounded as their frames arrive and parsed before faye reads them; faye's static files are served by name from a
// short list. What passes is handed to faye's adapter unchanged.

import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { Readable } from 'node:stream';
import type { BayeuxRequest, NodeAdapter } from 'faye';
import type { ExceptionName } from '../errors.ts';
import type { Logger } from '../log.ts';
import { bayeuxText, checkBayeux, parseBayeux, type BayeuxLimits } from './bayeux-limits.ts';
import { gatedSocket } from './gated-socket.ts';
import { CLOSE_GOING_AWAY, MessageGate } from './websocket-frames.ts';

export interface BayeuxDoorOptions {
  server: http.Server;
  adapter: NodeAdapter;
  /** Origins whose browser apps may call the endpoint; `*` allows any. The gateway's own origin always may. */
  corsOrigins: string[];
  /** Largest HTTP body and largest websocket message, in bytes. */
  bodyLimitBytes: number;
  limits: BayeuxLimits;
  log: Logger;
}

// Browsers' CometD clients (faye's, CometD's) send credentials cross-origin, so an allowed origin is
// echoed with Allow-Credentials rather than '*'; the headers are those the clients and customer apps set.
const PREFLIGHT_HEADERS = 'gms_user, Content-Type, Authorization, Accept, Pragma, X-Requested-With';
/** The client script the pages load (faye maps both names onto its browser build), and that build's map. */
const STATIC_FILES = new Set(['client.js', 'cometd.js', 'faye-browser-min.js', 'faye-browser-min.js.map']);
/** faye's own rule for a JSONP callback name (it answers others with a plain-text 400). */
const JSONP_CALLBACK = /^[a-z_$][a-z0-9_$]*(\.[a-z_$][a-z0-9_$]*)*$/i;
const NO_CACHE = { Pragma: 'no-cache', 'Cache-Control': 'no-cache, no-store' };

export interface BayeuxDoor {
  /**
   * Closes every websocket (1001, going away): a client probing websocket may hold one it does not use.
   * Requests and upgrades that come after are refused (503, Connection: close) instead of held.
   */
  close(): void;
}

export function openBayeuxDoor(options: BayeuxDoorOptions): BayeuxDoor {
  const { server, adapter } = options;
  const sockets = new Set<Duplex>();
  /** Once closed, a new long-poll would be held for its whole timeout and keep the server from stopping. */
  let closed = false;
  const anyOrigin = options.corsOrigins.includes('*');
  const origins = new Set(options.corsOrigins);

  // A URL without the word "cometd" cannot parse to a path under the mount (parsing adds no letters: Node
  // rejects the tabs and newlines WHATWG parsing would strip), so the API's requests skip faye's URL parse.
  const isBayeux = (req: http.IncomingMessage): boolean => req.url?.includes('cometd') === true && adapter.check(req);

  /**
   * Whether the page a browser request comes from may use the endpoint, and its origin to answer to.
   * Non-browser clients send no Origin on POSTs and upgrades (browsers always do) and are let in; JSONP
   * GETs (script tags) send none either, so the Referer names their page, and a page that hides it is
   * only let in when every origin is.
   */
  const pageOrigin = (req: http.IncomingMessage, upgrade = false): { allowed: boolean; origin?: string } => {
    const origin = req.headers.origin;
    if (anyOrigin) return { allowed: true, ...(origin ? { origin } : {}) };
    const named = origin ?? (req.method === 'GET' && !upgrade ? originOf(req.headers.referer) : undefined);
    if (named === undefined) return { allowed: upgrade || req.method !== 'GET' };
    return { allowed: origins.has(named) || sameHost(named, req.headers.host), ...(origin ? { origin } : {}) };
  };

  const others = server.listeners('request') as ((req: http.IncomingMessage, res: http.ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', function (this: http.Server, req: http.IncomingMessage, res: http.ServerResponse) {
    if (!isBayeux(req)) {
      for (const listener of others) listener.call(this, req, res);
      return;
    }
    const { allowed, origin } = pageOrigin(req);
    const refuse = (status: number, exception: ExceptionName, message: string, headers: Record<string, string> = {}): void =>
      answer(res, status, { message, exception }, { ...headers, ...(allowed && origin ? corsHeaders(origin) : {}) });

    const pathname = (req.url ?? '').split('?')[0];
    if (/\.(?:js|map)$/.test(pathname)) {
      // faye's static server caches an entry for every name asked for, found or not.
      if (STATIC_FILES.has(pathname.slice(pathname.lastIndexOf('/') + 1))) adapter.handle(req, res);
      else refuse(404, 'NotFound', `Nothing is served at ${req.method} ${pathname}.`);
      return;
    }
    if (req.method === 'OPTIONS') return preflight(res, allowed ? origin : undefined);
    if (closed) return refuse(503, 'ServiceUnavailable', STOPPING, { Connection: 'close', 'Retry-After': '1' });
    if (!allowed) return refuse(403, 'Forbidden', 'This origin may not use the CometD endpoint.');
    if (req.method !== 'GET' && req.method !== 'POST')
      return refuse(405, 'MethodNotAllowed', 'The CometD endpoint takes GET and POST.');

    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > options.bodyLimitBytes) return tooLarge();
    readBounded(req, options.bodyLimitBytes).then(
      (body) => {
        if (body === undefined) return tooLarge();
        const query = (req.url ?? '').includes('?') ? req.url!.slice(req.url!.indexOf('?') + 1) : '';
        const jsonp = req.method === 'GET' ? new URLSearchParams(query).get('jsonp') : null;
        if (jsonp !== null && !JSONP_CALLBACK.test(jsonp))
          return refuse(400, 'InvalidParameter', 'The jsonp callback must be a JavaScript name.');
        const check = checkBayeux(
          bayeuxText(req.method, body.toString('utf8'), req.headers['content-type'], query),
          options.limits,
        );
        if (!check.ok) return refuse(400, 'InvalidParameter', check.reason);
        adapter.handle(req.method === 'GET' ? req : replay(req, body), res);
      },
      () => {
        // The client went away or broke the stream: there is no one to answer.
        req.socket.destroy();
      },
    );

    function tooLarge(): void {
      // The rest of the body is not read: the connection closes after the answer.
      refuse(413, 'PayloadTooLarge', `The body is larger than ${options.bodyLimitBytes} bytes.`, { Connection: 'close' });
    }
  });

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!isBayeux(req)) return refuseUpgrade(socket, 404, 'NotFound', 'No websocket is served here.');
    if (closed) return refuseUpgrade(socket, 503, 'ServiceUnavailable', STOPPING);
    if (!pageOrigin(req, true).allowed)
      return refuseUpgrade(socket, 403, 'Forbidden', 'This origin may not use the CometD endpoint.');
    // Each message is bounded as its bytes arrive and judged once whole, before faye reads it.
    const gate = new MessageGate(options.bodyLimitBytes, (text) => {
      const read = parseBayeux(text);
      return read.ok ? undefined : read.reason;
    });
    const first = gate.feed(head);
    if (!first.ok)
      return first.code === 1009
        ? refuseUpgrade(socket, 413, 'PayloadTooLarge', first.why)
        : refuseUpgrade(socket, 400, 'InvalidParameter', first.why);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const gated = gatedSocket(socket, first.pass, gate, (why) =>
      options.log.debug({ reason: why }, 'a websocket message that faye cannot take closed its connection'),
    );
    adapter.handleUpgrade(req, gated, Buffer.alloc(0));
  });

  return {
    close() {
      closed = true;
      for (const socket of sockets) socket.end(CLOSE_GOING_AWAY, () => socket.destroy());
    },
  };
}

const STOPPING = 'This gateway is stopping: connect again (to another node, or to this one once it is back).';

function preflight(res: http.ServerResponse, origin: string | undefined): void {
  const headers: Record<string, string> = { ...NO_CACHE, Vary: 'Origin' };
  if (origin) {
    Object.assign(headers, corsHeaders(origin), {
      'Access-Control-Allow-Headers': PREFLIGHT_HEADERS,
      'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
      'Access-Control-Max-Age': '600',
    });
  }
  // Answered once every 'request' listener has run, as Koa and faye answer: a later listener (the
  // shutdown's Connection: close) may still set a header.
  queueMicrotask(() => res.writeHead(204, headers).end());
}

function corsHeaders(origin: string): Record<string, string> {
  return { 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true', Vary: 'Origin' };
}

function answer(
  res: http.ServerResponse,
  status: number,
  body: { message: string; exception: ExceptionName },
  headers: Record<string, string>,
): void {
  const text = JSON.stringify(body);
  queueMicrotask(() => {
    if (res.headersSent) return;
    res.writeHead(status, {
      ...NO_CACHE,
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(text)),
      ...headers,
    });
    res.end(text);
  });
}

function refuseUpgrade(socket: Duplex, status: number, exception: ExceptionName, message: string): void {
  const body = JSON.stringify({ message, exception });
  const head =
    `HTTP/1.1 ${status} ${exception}\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-cache, no-store\r\nConnection: close\r\n\r\n`;
  if (socket.writable) socket.end(head + body, () => socket.destroy());
  else socket.destroy();
}

/** The whole body, or undefined as soon as it is larger than `limit` (the rest is left unread). */
function readBounded(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer): void => {
      length += chunk.length;
      if (length > limit) {
        req.off('data', onData);
        req.off('end', onEnd);
        req.pause();
        chunks.length = 0;
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => resolve(Buffer.concat(chunks, length));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
    req.on('aborted', () => reject(new Error('aborted')));
  });
}

/** The request as faye reads it, its body already read and checked. */
function replay(req: http.IncomingMessage, body: Buffer): BayeuxRequest {
  const stream = Readable.from(body.length > 0 ? [body] : [], { objectMode: false });
  return Object.assign(stream, { method: req.method, url: req.url, headers: req.headers, socket: req.socket });
}

function originOf(referer: string | undefined): string | undefined {
  if (!referer) return undefined;
  try {
    const url = new URL(referer);
    return url.origin === 'null' ? undefined : url.origin;
  } catch {
    return undefined;
  }
}

function sameHost(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}
