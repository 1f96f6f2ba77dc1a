// A request's body read as UTF-8 text within a size limit, for the body normaliser (body.ts). A body
// sent gzip-, deflate- or br-compressed is inflated first and the limit counts what it inflates to; a
// body that does not end where its Content-Length says is refused. Every refusal is a GatewayError:
// 413 over the limit, 415 for an encoding it cannot undo, 400 for a body cut short or that fails to inflate.

import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import zlib from 'node:zlib';
import { GatewayError } from '../errors.ts';

export function readBodyText(req: IncomingMessage, limitBytes: number): Promise<string> {
  const encoding = req.headers['content-encoding'] ?? 'identity';
  const declared = req.headers['content-length'];
  // A compressed body's length on the wire says nothing of what it inflates to.
  const length = encoding === 'identity' && declared ? Number.parseInt(declared, 10) : undefined;
  if (length !== undefined && length > limitBytes) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const source = inflated(req, encoding);
    if (!source) return reject(new GatewayError('UnsupportedMediaType', 'This content type or charset is not supported.'));
    const decoder = new StringDecoder('utf8');
    let text = '';
    let received = 0;
    const finish = (err: GatewayError | undefined): void => {
      source.off('data', onData).off('end', onEnd).off('error', onFailure);
      req.off('aborted', onFailure).off('close', onClose);
      if (err) {
        req.unpipe();
        req.pause();
        reject(err);
      } else {
        const rest = text + decoder.end();
        // A byte order mark is not part of the text.
        resolve(rest.charCodeAt(0) === 0xfeff ? rest.slice(1) : rest);
      }
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limitBytes) finish(tooLarge());
      else text += decoder.write(chunk);
    };
    const onEnd = (): void => finish(length !== undefined && received !== length ? unreadable() : undefined);
    const onFailure = (): void => finish(unreadable());
    const onClose = (): void => {
      if (!req.complete) finish(unreadable());
    };
    source.on('data', onData).on('end', onEnd).on('error', onFailure);
    req.on('aborted', onFailure).on('close', onClose);
  });
}

/** The body as it was before its Content-Encoding (undefined for one not known). */
function inflated(req: IncomingMessage, encoding: string): Readable | undefined {
  switch (encoding) {
    case 'identity':
      return req;
    case 'gzip':
    case 'deflate':
      return req.pipe(zlib.createUnzip());
    case 'br':
      return req.pipe(zlib.createBrotliDecompress());
    default:
      return undefined;
  }
}

function tooLarge(): GatewayError {
  return new GatewayError('PayloadTooLarge', 'The body is larger than the configured limit.');
}

function unreadable(): GatewayError {
  return new GatewayError('InvalidParameter', 'The body cannot be parsed.');
}
