// A service file (services.d/<name>.json|yaml) → the service's options, validated against
// schemas/request-chat.schema.json with its defaults, GMS's option names accepted (gms-options.ts).

import type { FileLimits } from '../chat/file-rules.ts';
import type { ServiceOptions } from '../chat/types.ts';
import { validateConfigText, type LoadResult } from './config-file.ts';
import { applyGmsNames, describeIgnored, prepareGmsOptions, type IgnoredOption, type OptionSchemas } from './gms-options.ts';
import { schemaFor } from './schema-files.ts';

export interface ServiceDefinition extends ServiceOptions {
  type: 'request-chat';
  /** The tenant part of an endpoint written `<tenant>:<name>`, kept for operators to see. */
  tenant?: string;
  description?: string;
  /** GMS options the file gives that this gateway does not apply, with the reason. */
  ignored?: IgnoredOption[];
  /** The customer protocols the service answers (1: Chat API v1, 2: Chat API Version 2). */
  chatApiVersions: (1 | 2)[];
  fileTransfer: FileLimits;
}

export function loadServiceFile(file: string, text: string): LoadResult<ServiceDefinition> {
  const properties = schemaFor('request-chat').properties as OptionSchemas;
  const checked = validateConfigText(file, text, 'request-chat', (options, label) =>
    prepareGmsOptions(options, label, properties),
  );
  if (!checked.ok) return checked;
  const { name, options } = checked;
  const ignored = applyGmsNames(options, properties);
  const {
    type,
    ttl,
    endpoint: written,
    enabled,
    maxMessageLength,
    disconnectedStatus,
    maxChats,
    description,
    chatApiVersions,
    fileTransfer,
    customerIdleWarning,
    customerIdleEnd,
    agentTimeoutNotification,
  } = options as unknown as ServiceDefinition & {
    customerIdleWarning?: number;
    customerIdleEnd: number;
    agentTimeoutNotification?: number;
  };
  // GMS writes endpoints as <tenant>:<name>; the gateway is one tenant, so the name alone routes.
  const [tenant, endpoint] = written.includes(':') ? written.split(':') : [undefined, written];
  return {
    ok: true,
    name,
    value: {
      name,
      type,
      ttl,
      endpoint: endpoint,
      ...(tenant ? { tenant } : {}),
      enabled,
      maxMessageLength,
      disconnectedStatus,
      ...(maxChats !== undefined ? { maxChats } : {}),
      ...(customerIdleWarning !== undefined
        ? { customerIdle: { warningSeconds: customerIdleWarning, endSeconds: customerIdleEnd } }
        : {}),
      ...(agentTimeoutNotification !== undefined ? { agentReminderSeconds: agentTimeoutNotification } : {}),
      ...(description ? { description } : {}),
      ...(ignored.length > 0 ? { ignored } : {}),
      chatApiVersions,
      fileTransfer,
    },
  };
}

/** One line per GMS option the service's file gives and the gateway ignores. */
export function serviceNotices(file: string, service: ServiceDefinition): string[] {
  return (service.ignored ?? []).map((o) => describeIgnored(file, o));
}
