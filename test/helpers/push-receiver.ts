// A real HTTP server on 127.0.0.1 (HTTPS with `tls`) standing in for a push provider: records every
// request and answers what the test tells it to (by default 200).

import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  text: string;
  // Tests read the JSON bodies loosely; the assertions are the check.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | 'hang';

export interface PushReceiver {
  url: string;
  received: Received[];
  /** How the next requests are answered (called with each request and the count so far). */
  answer: (request: Received, index: number) => Answer | Promise<Answer>;
  close(): Promise<void>;
}

/** `tls`: serve HTTPS with this key and certificate (the caller makes its clients trust it). */
export async function startReceiver(tls?: { key: string; cert: string }): Promise<PushReceiver> {
  const hung = new Set<http.ServerResponse>();
  const receiver: PushReceiver = {
    url: '',
    received: [],
    answer: () => ({ status: 200 }),
    close: async () => {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Form bodies (the token endpoint) stay text.
      }
      const request: Received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, text, body };
      const index = receiver.received.push(request) - 1;
      void Promise.resolve(receiver.answer(request, index)).then((answer) => {
        if (answer === 'hang') {
          hung.add(res);
          return;
        }
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body === undefined ? '{}' : JSON.stringify(answer.body));
      });
    });
  };
  const server = tls ? https.createServer(tls, handle) : http.createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}

/** What a receiver does with the X-Gms-Signature header: recompute the HMAC over "<t>.<body>" and compare in constant time. */
export function signatureValid(secret: string, header: string | undefined, body: string): boolean {
  const parts = Object.fromEntries((header ?? '').split(',').map((p) => p.split('=') as [string, string]));
  if (!parts.t || !parts.v1) return false;
  const expected = createHmac('sha256', secret).update(`${parts.t}.${body}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
