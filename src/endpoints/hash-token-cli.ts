// `npm run hash-token [-- <token> | -]`: prints a token (a new random one unless given; `-` reads it
// from stdin, out of the shell history) and the hash to put in an endpoint file's agents[].token.
// The token goes to the agent; only the hash goes in the file.

import fs from 'node:fs';
import path from 'node:path';
import { hashToken, newToken } from './token-hash.ts';

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const arg = process.argv[2];
  const given = arg === '-' ? fs.readFileSync(0, 'utf8').trim() : arg;
  const token = given || newToken();
  if (!given) console.log(`token: ${token}`);
  console.log(`hash:  ${hashToken(token)}`);
}
