// Admin bearer tokens as the settings give them: `<name>:<role>:sha256:<hex>` entries (ADMIN_TOKENS, or
// one per line in ADMIN_TOKENS_FILE), each a name for the audit log, a role, and the hash of the token
// (never the token itself, as for agents). A presented token is checked against every hash in constant time.

import { digestsEqual, storedDigest, tokenDigest } from '../endpoints/token-hash.ts';

export type AdminRole = 'read-only' | 'read-write';

export interface AdminToken {
  /** Who holds the token, as the audit log names them. */
  name: string;
  role: AdminRole;
  /** `sha256:<hex>` of the token. */
  hash: string;
}

const ENTRY = /^([A-Za-z0-9][A-Za-z0-9._@-]{0,63}):(read-only|read-write):(sha256:[0-9a-fA-F]{64})$/;

/**
 * The entries of ADMIN_TOKENS (comma- or newline-separated; `#` starts a comment line in a file).
 * A malformed entry stops the gateway at start with the entry's position, never its text (it may be a token).
 */
export function parseAdminTokens(text: string, source: string): AdminToken[] {
  const tokens: AdminToken[] = [];
  const entries = text
    .split(/[,\n]/)
    .map((e) => e.trim())
    .filter((e) => e !== '' && !e.startsWith('#'));
  for (const [i, entry] of entries.entries()) {
    const match = ENTRY.exec(entry);
    if (!match) {
      throw new Error(
        `${source}: entry ${i + 1} must be <name>:<role>:sha256:<64 hex digits>, role read-only or read-write (make the hash with npm run hash-token)`,
      );
    }
    if (tokens.some((t) => t.name === match[1])) throw new Error(`${source}: the name '${match[1]}' is given twice`);
    tokens.push({ name: match[1], role: match[2] as AdminRole, hash: match[3].toLowerCase() });
  }
  return tokens;
}

/** The admin holding `token`: every hash is compared, all of them every time, so timing tells nothing. */
export function findAdmin(tokens: readonly AdminToken[], token: string): AdminToken | undefined {
  const presented = tokenDigest(token);
  let found: AdminToken | undefined;
  for (const t of tokens) if (digestsEqual(storedDigest(t.hash), presented) && !found) found = t;
  return found;
}
