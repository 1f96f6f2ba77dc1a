// Requests so broken that Node's HTTP parser refuses them before Koa sees them (headers too large,
// malformed request lines, clients too slow): answered with the same {"message","exception"} body as
// every other error, instead of Node's bare status line.

import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { ExceptionName } from '../errors.ts';

const ANSWERS: Record<string, [status: number, reason: string, exception: ExceptionName, message: string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'PayloadTooLarge', 'The request line or headers are too large.'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Payload Too Large', 'PayloadTooLarge', 'The chunk extensions are too large.'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'InvalidParameter', 'The request did not arrive in time.'],
};
const MALFORMED: [number, string, ExceptionName, string] = [
  400,
  'Bad Request',
  'InvalidParameter',
  'The HTTP request is malformed.',
];

function answer(code: string | undefined, head: boolean): string {
  const [status, reason, exception, message] = (code && ANSWERS[code]) || MALFORMED;
  const body = JSON.stringify({ message, exception });
  return (
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-cache, no-store\r\nConnection: close\r\n\r\n${head ? '' : body}`
  );
}

export function answerClientErrors(server: http.Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex) => {
    // As Node itself does: never write over a response already under way.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    // The answer to a HEAD request has no body, even when the request was refused.
    const head = err.rawPacket?.toString('latin1', 0, 5) === 'HEAD ';
    if (err.code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent) socket.write(answer(err.code, head));
    socket.destroy();
  });
}
