// File uploads: the multipart requests that carry a file (Chat API v2 `.../file`, the agent API's
// `.../files`). The body normaliser leaves their bodies alone (isUploadRequest); the route reads the
// one file and a few fields here, under the service's size limit, into memory.

import busboy from 'busboy';
import type { Context } from 'koa';
import { FileRefused } from '../chat/file-rules.ts';
import { GatewayError } from '../errors.ts';
import type { Params } from './body.ts';

const UPLOAD_PATHS = [/^\/genesys\/2\/chat\/[^/]+\/[^/]+\/file\/?$/, /^\/agent\/v1\/chats\/[^/]+\/files\/?$/];
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_FIELDS = 32;
const MAX_FIELD_BYTES = 8192;
/** What a multipart body may hold beyond its file: boundaries, part headers and the fields. */
const ENVELOPE_BYTES = 64 * 1024;

/** A multipart POST to an upload path: its body is read by its route, not by the body normaliser. */
export function isUploadRequest(ctx: Context): boolean {
  return (
    ctx.method === 'POST' &&
    ctx.request.type.toLowerCase() === 'multipart/form-data' &&
    UPLOAD_PATHS.some((p) => p.test(ctx.path))
  );
}

export interface Upload {
  fields: Params;
  file: { name: string; content: Buffer };
}

/**
 * Reads the request's file (the part named `file`, or the first file part) and its fields. A body that
 * says it is larger than the file limit allows is refused before it is read.
 */
export function readUpload(ctx: Context, maxFileBytes: number): Promise<Upload> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > maxFileBytes + ENVELOPE_BYTES) {
    ctx.req.resume();
    return Promise.reject(new FileRefused('size', `The file is larger than ${maxFileBytes} bytes.`));
  }
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: ctx.req.headers,
        // Browsers send file names in UTF-8 (busboy's default would read them as Latin-1).
        defParamCharset: 'utf8',
        limits: { fileSize: maxFileBytes, files: 1, fields: MAX_FIELDS, fieldSize: MAX_FIELD_BYTES, parts: MAX_FIELDS + 1 },
      });
    } catch {
      reject(new GatewayError('InvalidParameter', 'The multipart body has no valid boundary.'));
      return;
    }
    const fields: Params = Object.create(null) as Params;
    let file: Upload['file'] | undefined;
    let reading: Promise<void> = Promise.resolve();
    let failed = false;
    const fail = (err: GatewayError): void => {
      if (failed) return;
      failed = true;
      ctx.req.unpipe(parser);
      ctx.req.resume();
      reject(err);
    };
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) fail(new GatewayError('InvalidParameter', `The field '${name.slice(0, 64)}' is too long.`));
      else if (!FORBIDDEN_KEYS.has(name)) fields[name] = value;
    });
    parser.on('file', (_field, stream, info) => {
      const chunks: Buffer[] = [];
      reading = new Promise((done) => {
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('limit', () => fail(new FileRefused('size', `The file is larger than ${maxFileBytes} bytes.`)));
        // A body cut short fails the file's stream as well as the parser (busboy): unhandled, it would be
        // an uncaught exception.
        stream.on('error', () => {
          fail(new GatewayError('InvalidParameter', 'The multipart body is malformed.'));
          done();
        });
        stream.on('close', () => {
          file = { name: info.filename ?? '', content: Buffer.concat(chunks) };
          done();
        });
      });
    });
    parser.on('filesLimit', () => fail(new GatewayError('InvalidParameter', 'Send one file per request.')));
    parser.on('fieldsLimit', () => fail(new GatewayError('InvalidParameter', `More than ${MAX_FIELDS} fields.`)));
    parser.on('partsLimit', () => fail(new GatewayError('InvalidParameter', `More than ${MAX_FIELDS} fields.`)));
    parser.on('error', () => fail(new GatewayError('InvalidParameter', 'The multipart body is malformed.')));
    parser.on('close', () => {
      void reading.then(() => {
        if (failed) return;
        if (!file)
          fail(new GatewayError('InvalidParameter', "The parameter 'file' is required: send the file as a multipart part."));
        else resolve({ fields, file });
      });
    });
    ctx.req.pipe(parser);
  });
}
