// A service file (services.d/<name>.json|yaml) → the service's options, validated against
// schemas/request-chat.schema.json with its defaults, GMS's option names accepted as aliases.

import type { ServiceOptions } from '../chat/types.ts';
import { validateConfigText, type LoadResult } from './config-file.ts';
import type { ConfigProblem } from './schemas.ts';

/** GMS option name → ours. */
const ALIASES: Record<string, string> = { _ttl: 'ttl', _chat_endpoint: 'endpoint' };

export interface ServiceDefinition extends ServiceOptions {
  type: 'request-chat';
  /** The tenant part of an endpoint written `<tenant>:<name>`, kept for operators to see. */
  tenant?: string;
  description?: string;
}

export function loadServiceFile(file: string, text: string): LoadResult<ServiceDefinition> {
  const checked = validateConfigText(file, text, 'request-chat', resolveAliases);
  if (!checked.ok) return checked;
  const { name, options } = checked;
  const { type, ttl, endpoint: written, enabled, maxMessageLength, disconnectedStatus, maxChats, description } = options as unknown as ServiceDefinition;
  // GMS writes endpoints as <tenant>:<name>; the gateway is one tenant, so the name alone routes.
  const [tenant, endpoint] = written.includes(':') ? written.split(':') : [undefined, written];
  return {
    ok: true,
    name,
    value: {
      name,
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

/** GMS's option names become ours; giving both names of one option is refused. */
function resolveAliases(options: Record<string, unknown>, label: string): ConfigProblem | undefined {
  for (const [alias, canonical] of Object.entries(ALIASES)) {
    if (!Object.hasOwn(options, alias)) continue;
    if (Object.hasOwn(options, canonical)) {
      return { file: label, field: alias, reason: `is GMS's name for '${canonical}'; give only one of them` };
    }
    options[canonical] = options[alias];
    delete options[alias];
  }
  return undefined;
}
