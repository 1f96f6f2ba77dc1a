// A service file (services.d/<name>.json|yaml) → the service's options, validated against
// schemas/request-chat.schema.json with its defaults, GMS's option names accepted as aliases.

import path from 'node:path';
import type { ServiceOptions } from '../chat/types.ts';
import { configName, parseConfigText } from './config-file.ts';
import { describeErrors, validatorFor, type ConfigProblem } from './schemas.ts';

export type LoadResult<T> = { ok: true; name: string; value: T } | { ok: false; name?: string; problems: ConfigProblem[] };

/** GMS option name → ours. */
const ALIASES: Record<string, string> = { _ttl: 'ttl', _chat_endpoint: 'endpoint' };

export interface ServiceDefinition extends ServiceOptions {
  type: 'request-chat';
  /** The tenant part of an endpoint written `<tenant>:<name>`, kept for operators to see. */
  tenant?: string;
  description?: string;
}

export function loadServiceFile(file: string, text: string): LoadResult<ServiceDefinition> {
  const label = path.basename(file);
  const name = configName(file);
  const parsed = parseConfigText(file, text);
  if (!parsed.ok) return { ok: false, name, problems: parsed.problems };
  const options = { ...parsed.value };
  for (const [alias, canonical] of Object.entries(ALIASES)) {
    if (!Object.hasOwn(options, alias)) continue;
    if (Object.hasOwn(options, canonical)) {
      return { ok: false, name, problems: [{ file: label, field: alias, reason: `is GMS's name for '${canonical}'; give only one of them` }] };
    }
    options[canonical] = options[alias];
    delete options[alias];
  }
  const validate = validatorFor('request-chat');
  if (!validate(options)) return { ok: false, name, problems: describeErrors(label, validate.errors) };
  const { type, ttl, endpoint: written, enabled, maxMessageLength, disconnectedStatus, maxChats, description } = options as unknown as ServiceDefinition;
  // GMS writes endpoints as <tenant>:<name>; the gateway is one tenant, so the name alone routes.
  const [tenant, endpoint] = written.includes(':') ? written.split(':') : [undefined, written];
  return {
    ok: true,
    name: name!,
    value: {
      name: name!,
      type,
      ttl,
      endpoint: endpoint!,
      ...(tenant ? { tenant } : {}),
      enabled,
      maxMessageLength,
      disconnectedStatus,
      ...(maxChats !== undefined ? { maxChats } : {}),
      ...(description ? { description } : {}),
    },
  };
}
