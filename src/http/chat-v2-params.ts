// The parameters of Chat API v2 as both its transports read them (poll routes and CometD mode): ids,
// user data, nicknames, URLs, and the timing-safe check of a chat's keys.

import { timingSafeEqual } from 'node:crypto';
import type { ServiceDefinition } from '../config/service-file.ts';
import { GatewayError } from '../errors.ts';
import type { Params } from './body.ts';

export type ServiceDefinitions = (name: string) => ServiceDefinition | undefined;

export const CHAT_ID = /^[A-Za-z0-9]{1,64}$/;
export const MAX_NICKNAME = 256;
const MAX_USER_DATA_VALUE = 4096;
/** `userData[key]`, also written `userData["key"]` by some apps. */
const USER_DATA_KEY = /^userData\[("?)([^\]"]{1,256})\1\]$/;

export function required(params: Params, name: string): string {
  const value = params[name];
  if (value === undefined || value.trim() === '')
    throw new GatewayError('InvalidParameter', `The parameter '${name}' is required.`);
  return value;
}

/** Both ids are ours (hex); a timing-safe comparison costs nothing and says nothing. */
export function same(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `userData[key]=value` parameters, or a `userData` JSON object (a JSON body), as the chat's user data. */
export function userDataOf(params: Params): Record<string, string> {
  const data: Record<string, string> = {};
  const put = (key: string, value: unknown): void => {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') return;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if ([...text].length > MAX_USER_DATA_VALUE)
      throw new GatewayError(
        'InvalidParameter',
        `The value of userData[${key}] is longer than ${MAX_USER_DATA_VALUE} characters.`,
      );
    data[key] = text;
  };
  for (const [key, value] of Object.entries(params)) {
    const m = USER_DATA_KEY.exec(key);
    if (m) put(m[2], value);
  }
  if (params.userData !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(params.userData);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new GatewayError('InvalidParameter', "'userData' must be a JSON object, or be sent as userData[key]=value.");
    }
    for (const [key, value] of Object.entries(parsed)) if (value !== null && value !== undefined) put(key, value);
  }
  return data;
}

export function defined(values: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).filter((e): e is [string, string] => e[1] !== undefined && e[1].trim() !== ''),
  );
}

export function webUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new GatewayError('InvalidParameter', "The parameter 'pushUrl' is not a valid absolute URL.");
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new GatewayError('InvalidParameter', "The parameter 'pushUrl' must be an http or https URL.");
  return url.href;
}
