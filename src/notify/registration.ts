// The push_notification_* parameters of a chat start (Chat API v1, as the public GMS mobile clients send
// them) → the device to notify while the customer is away, or a clear refusal.

import type { PushRegistration } from '../chat/types.ts';
import { GatewayError } from '../errors.ts';

/** The start parameters read here; none of them is user data. */
export const PUSH_PARAMS = [
  'push_notification_deviceid',
  'push_notification_type',
  'push_notification_language',
  'push_notification_debug',
  'push_notification_provider',
  'subscriptionID',
] as const;

const TYPE = /^[a-z0-9_-]{1,32}$/;
const LANGUAGE = /^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8}){0,3}$/;
const PROVIDER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAX_DEVICE_ID = 4096;
const MAX_SUBSCRIPTION_ID = 256;

/**
 * The registration the parameters ask for: none without a device id and a type, nor for the type
 * `comet` (GMS's name for the CometD channel, which every comet chat has anyway).
 */
export function pushRegistration(params: Record<string, string | undefined>): PushRegistration | undefined {
  const deviceId = params.push_notification_deviceid?.trim() ?? '';
  const type = params.push_notification_type?.trim().toLowerCase() ?? '';
  if (deviceId === '' && type === '') return undefined;
  if (type === '') refuse('push_notification_type is required with push_notification_deviceid (fcm, gcm, ios, customhttp...).');
  if (!TYPE.test(type))
    refuse('push_notification_type must be a word of letters, digits, - and _ (fcm, gcm, ios, customhttp...).');
  if (type === 'comet') return undefined;
  if (deviceId === '') refuse(`push_notification_deviceid is required with push_notification_type=${type}.`);
  if (deviceId.length > MAX_DEVICE_ID) refuse(`push_notification_deviceid is longer than ${MAX_DEVICE_ID} characters.`);
  const language = params.push_notification_language?.trim() || undefined;
  if (language !== undefined && !LANGUAGE.test(language))
    refuse('push_notification_language must be a language tag such as en, fr or pt-BR.');
  const provider = params.push_notification_provider?.trim() || undefined;
  if (provider !== undefined && !PROVIDER.test(provider))
    refuse('push_notification_provider must be the name of a provider file.');
  const subscriptionId = params.subscriptionID || undefined;
  if (subscriptionId !== undefined && subscriptionId.length > MAX_SUBSCRIPTION_ID)
    refuse(`subscriptionID is longer than ${MAX_SUBSCRIPTION_ID} characters.`);
  return {
    deviceId,
    type,
    debug: debugFlag(params.push_notification_debug),
    ...(provider ? { provider } : {}),
    ...(language ? { language: language.replace('_', '-') } : {}),
    ...(subscriptionId ? { subscriptionId } : {}),
  };
}

function debugFlag(raw: string | undefined): boolean {
  const value = raw?.trim().toLowerCase() ?? '';
  if (value === '' || value === 'false' || value === '0' || value === 'no') return false;
  if (value === 'true' || value === '1' || value === 'yes') return true;
  return refuse('push_notification_debug must be true or false.');
}

function refuse(message: string): never {
  throw new GatewayError('InvalidParameter', message);
}
