// `npm run hash-token [-- <token>]`: prints a token (a new random one unless given) and the hash to
// put in an endpoint file's agents[].token. The token goes to the agent; only the hash goes in the file.

import path from 'node:path';
import { hashToken, newToken } from './token-hash.ts';

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const given = process.argv[2];
  const token = given ?? newToken();
  if (!given) console.log(`token: ${token}`);
  console.log(`hash:  ${hashToken(token)}`);
}
