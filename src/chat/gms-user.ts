// The customer's `gms_user`: an opaque value chosen by the app that binds a session to whoever sends it.
// One length limit for every door that reads it (the chat API's header, the CometD handshake).

import { GatewayError } from '../errors.ts';

/** Longest `gms_user` accepted anywhere, in characters. */
export const MAX_GMS_USER_LENGTH = 256;

/** The value as given, or InvalidParameter when it is longer than MAX_GMS_USER_LENGTH. */
export function checkedGmsUser(value: string): string {
  if (value.length > MAX_GMS_USER_LENGTH) {
    throw new GatewayError('InvalidParameter', `The gms_user header is longer than ${MAX_GMS_USER_LENGTH} characters.`);
  }
  return value;
}
