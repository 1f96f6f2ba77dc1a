// An endpoint file (endpoints.d/<name>.json|yaml) → the endpoint's options and agents, validated
// against schemas/endpoint.schema.json with its defaults.

import path from 'node:path';
import { configName, parseConfigText } from '../config/config-file.ts';
import { describeErrors, validatorFor } from '../config/schemas.ts';
import type { LoadResult } from '../config/service-file.ts';

export interface EndpointAgent {
  id: string;
  nickname: string;
  /** `sha256:<hex>` of the agent's bearer token. */
  token: string;
}

export interface EndpointDefinition {
  name: string;
  open: boolean;
  maxWaiting?: number;
  description?: string;
  agents: EndpointAgent[];
}

export function loadEndpointFile(file: string, text: string): LoadResult<EndpointDefinition> {
  const label = path.basename(file);
  const name = configName(file);
  const parsed = parseConfigText(file, text);
  if (!parsed.ok) return { ok: false, name, problems: parsed.problems };
  const options = { ...parsed.value };
  const validate = validatorFor('endpoint');
  if (!validate(options)) return { ok: false, name, problems: describeErrors(label, validate.errors) };
  const { open, maxWaiting, description, agents } = options as unknown as Omit<EndpointDefinition, 'name'>;
  const seen = new Set<string>();
  for (const [i, agent] of agents.entries()) {
    if (seen.has(agent.id)) {
      return { ok: false, name, problems: [{ file: label, field: `agents.${i}.id`, reason: `'${agent.id}' is listed twice` }] };
    }
    seen.add(agent.id);
  }
  return {
    ok: true,
    name: name!,
    value: {
      name: name!,
      open,
      ...(maxWaiting !== undefined ? { maxWaiting } : {}),
      ...(description ? { description } : {}),
      agents: agents.map(({ id, nickname, token }) => ({ id, nickname, token: token.toLowerCase() })),
    },
  };
}

/** An endpoint as operators may see it, in logs and the admin listing: its agents without token hashes. */
export function publicEndpoint(value: EndpointDefinition): Omit<EndpointDefinition, 'agents'> & { agents: Array<{ id: string; nickname: string }> } {
  return { ...value, agents: value.agents.map(({ id, nickname }) => ({ id, nickname })) };
}
