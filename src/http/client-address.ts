// Whose request this is: the client address every per-address rule uses (rate limits, caps), for a
// Koa request and a raw IncomingMessage alike (the CometD endpoint), by the Koa convention: the socket's
// peer, unless the gateway is told it sits behind trusted proxies, which then name the client in a header.

import type { IncomingMessage } from 'node:http';
import net from 'node:net';

export interface ProxyTrust {
  /** Off: the header is ignored (anyone can send it); the socket's peer is the client. */
  trust: boolean;
  /** The header the proxies append the client's address to (lower case), e.g. `x-forwarded-for`. */
  ipHeader: string;
  /** How many proxies stand in front of the gateway: the client is that many entries from the header's end. */
  hops: number;
}

export const NO_PROXY: ProxyTrust = { trust: false, ipHeader: 'x-forwarded-for', hops: 1 };

/**
 * The client address of a request. Each trusted proxy appends the address it received the request from,
 * so with `hops` proxies the client is the `hops`-th entry from the end: whatever the client itself wrote
 * in the header sits before it and is never read. A missing or malformed header falls back to the peer.
 */
export function clientAddress(req: Pick<IncomingMessage, 'socket' | 'headers'>, proxy: ProxyTrust = NO_PROXY): string {
  const peer = req.socket.remoteAddress ?? '';
  if (!proxy.trust) return peer;
  const header = req.headers[proxy.ipHeader];
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!value) return peer;
  const entries = value
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  // Fewer entries than hops: the nearest proxies added nothing more, the first entry is the client.
  const chosen = entries[Math.max(0, entries.length - proxy.hops)];
  return chosen !== undefined && net.isIP(chosen) !== 0 ? chosen : peer;
}
