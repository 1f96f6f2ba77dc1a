// The agent tokens the project ships in endpoints.d/gms_builtin.json are printed in the README: while an
// endpoint accepts one of them, anyone can sign in as that agent. The gateway warns at start.

import type { Registry } from '../config/registry.ts';
import type { EndpointDefinition } from './endpoint-file.ts';
import { hashToken } from './token-hash.ts';

/** The published demo tokens (README, the shipped endpoint file's description). */
const DEMO_TOKENS = ['demo-agent-token-change-me', 'demo-agent-2-token-change-me'];
const DEMO_HASHES = new Set(DEMO_TOKENS.map(hashToken));

/** `<endpoint>/<agent id>` of every agent that accepts a published demo token now. */
export function demoAgentsLive(endpoints: Registry<EndpointDefinition>): string[] {
  return endpoints.list().flatMap((e) => e.value.agents.filter((a) => DEMO_HASHES.has(a.token)).map((a) => `${e.name}/${a.id}`));
}
