// The one body normaliser (spec §"Request bodies"): form, multipart fields, JSON, JSON sent with the
// form content type, and the query string all become one flat map of strings (ctx.state.params, set in edge.ts).

import type { Context } from 'koa';
import bodyParser from 'koa-bodyparser';
import busboy from 'busboy';
import { GatewayError } from '../errors.ts';

export type Params = Record<string, string>;

/** Keys that could reach an object's prototype are dropped, never merged. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_PARAMS = 256;
/** Bodies read as text: JSON, forms (which may hold a JSON object) and plain text. */
const TEXT_TYPES = new Set([
  'application/json',
  'application/merge-patch+json',
  'application/x-www-form-urlencoded',
  'text/plain',
]);
const MAX_KEY_LENGTH = 256;
/** Deepest nesting of arrays and objects in a JSON body: a parameter is a value, at most a small structure. */
export const MAX_JSON_DEPTH = 32;

declare module 'koa' {
  interface DefaultState {
    params: Params;
  }
}

export interface BodyOptions {
  limitBytes: number;
  /** Multipart requests whose body their route reads itself (file uploads): only their query string is read here. */
  leaveBody?: (ctx: Context) => boolean;
}

/** Reads a request's parameters: its query string and body, whatever their encoding. */
export type ParamsReader = (ctx: Context) => Promise<Params>;

export function paramsReader({ limitBytes, leaveBody }: BodyOptions): ParamsReader {
  // Every body is read as text and decoded here, so that a JSON object sent with the form content
  // type parses like any JSON, and one JSON parser decides what happens to __proto__ keys.
  const readText = bodyParser({
    enableTypes: ['text'],
    extendTypes: { text: [...TEXT_TYPES] },
    textLimit: String(limitBytes),
    onerror: (err: Error & { status?: number; type?: string }) => {
      throw translate(err);
    },
  });

  return async (ctx) => {
    const params: Params = Object.create(null) as Params;
    // Most calls have no query string: no parse then.
    const query = ctx.querystring;
    if (query !== '') merge(params, Object.fromEntries(new URLSearchParams(query)));
    if (hasBody(ctx)) {
      // The media type alone, compared as type-is would (case-insensitive), without its parse per call.
      const type = ctx.request.type.trim().toLowerCase();
      if (type === 'multipart/form-data') {
        if (!leaveBody?.(ctx)) merge(params, await readMultipart(ctx, limitBytes));
      } else if (type === '' || TEXT_TYPES.has(type)) {
        if (type === '') ctx.request.headers['content-type'] = 'text/plain';
        await readText(ctx, () => Promise.resolve());
        merge(params, decode(ctx.request.body, type === 'application/json'));
      } else {
        throw new GatewayError(
          'UnsupportedMediaType',
          `Content type '${type}' is not supported; send a form, multipart form or JSON.`,
        );
      }
    }
    return params;
  };
}

function hasBody(ctx: Context): boolean {
  const length = ctx.get('content-length');
  return ctx.get('transfer-encoding') !== '' || (length !== '' && length !== '0');
}

/** A body's text (JSON, or a form that may really be a JSON object) → flat params. */
function decode(body: unknown, json: boolean): Params {
  const text = typeof body === 'string' ? body.trim() : '';
  if (text === '') return {};
  if (json || text.startsWith('{')) return flatten(parseJson(text));
  return Object.fromEntries(new URLSearchParams(text));
}

function flatten(body: unknown): Params {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new GatewayError('InvalidParameter', 'A JSON body must be an object of parameters.');
  }
  const flat: Params = Object.create(null) as Params;
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (value === null || value === undefined) continue;
    flat[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return flat;
}

function parseJson(text: string): unknown {
  // Checked before parsing: re-serialising a deeply nested value (a few kB of brackets) overflows the stack.
  if (nestingExceeds(text, MAX_JSON_DEPTH)) {
    throw new GatewayError('InvalidParameter', `The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels.`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new GatewayError('InvalidParameter', 'The body looks like JSON but cannot be parsed.');
  }
}

/** Whether brackets outside strings nest deeper than `max` (one pass, stops at the first level too deep). */
function nestingExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

function merge(into: Params, from: Record<string, string>): void {
  for (const [key, value] of Object.entries(from)) {
    if (FORBIDDEN_KEYS.has(key)) continue;
    if (key.length > MAX_KEY_LENGTH)
      throw new GatewayError('InvalidParameter', `A parameter name is longer than ${MAX_KEY_LENGTH} characters.`);
    if (!(key in into) && Object.keys(into).length >= MAX_PARAMS) {
      throw new GatewayError('InvalidParameter', `More than ${MAX_PARAMS} parameters.`);
    }
    into[key] = value;
  }
}

function readMultipart(ctx: Context, limitBytes: number): Promise<Params> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: ctx.req.headers,
        limits: { fieldSize: limitBytes, fields: MAX_PARAMS, files: 0, parts: MAX_PARAMS },
      });
    } catch {
      reject(new GatewayError('InvalidParameter', 'The multipart body has no valid boundary.'));
      return;
    }
    const fields: Params = Object.create(null) as Params;
    let received = 0;
    let failed = false;
    const fail = (err: GatewayError): void => {
      if (failed) return;
      failed = true;
      ctx.req.unpipe(parser);
      ctx.req.resume();
      reject(err);
    };
    ctx.req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > limitBytes) fail(tooLarge(limitBytes));
    });
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) fail(tooLarge(limitBytes));
      else if (!FORBIDDEN_KEYS.has(name)) fields[name] = value;
    });
    parser.on('file', (_name, stream) => {
      stream.resume();
      fail(new GatewayError('InvalidParameter', 'File uploads are not accepted; send plain fields.'));
    });
    parser.on('filesLimit', () =>
      fail(new GatewayError('InvalidParameter', 'File uploads are not accepted; send plain fields.')),
    );
    parser.on('fieldsLimit', () => fail(new GatewayError('InvalidParameter', `More than ${MAX_PARAMS} parameters.`)));
    parser.on('error', () => fail(new GatewayError('InvalidParameter', 'The multipart body is malformed.')));
    parser.on('close', () => {
      if (!failed) resolve(fields);
    });
    ctx.req.pipe(parser);
  });
}

function tooLarge(limitBytes: number): GatewayError {
  return new GatewayError('PayloadTooLarge', `The body is larger than ${limitBytes} bytes.`);
}

function translate(err: Error & { status?: number; type?: string }): GatewayError {
  if (err.status === 413) return new GatewayError('PayloadTooLarge', 'The body is larger than the configured limit.');
  if (err.status === 415) return new GatewayError('UnsupportedMediaType', 'This content type or charset is not supported.');
  return new GatewayError('InvalidParameter', 'The body cannot be parsed.');
}

/** Flags arrive as strings: "true", "True" and "1" are true. */
export function flag(value: string | undefined): boolean {
  return value !== undefined && ['true', '1', 'yes'].includes(value.trim().toLowerCase());
}
