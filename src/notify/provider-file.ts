// A push provider file (push.d/<name>.json|yaml) → the provider's options, validated against
// schemas/push-provider.schema.json, its secrets read from the files or environment it names.

import { createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { validateConfigText, type LoadResult } from '../config/config-file.ts';
import type { ConfigProblem } from '../config/schemas.ts';
import type { Templates } from './templates.ts';

interface Common {
  name: string;
  /** The push_notification_type values served. */
  types: string[];
  enabled: boolean;
  timeoutMs: number;
  /** The event types that make a notification. */
  events: string[];
  defaultLanguage: string;
  messages: Record<string, Partial<Templates>>;
  description?: string;
}

export interface HttpCallbackDefinition extends Common {
  kind: 'http-callback';
  url: string;
  debugUrl?: string;
  /** The HMAC-SHA256 key: never logged nor shown. */
  secret: string;
}

/** One Firebase project to send through: a service account and the endpoints. */
export interface FcmTarget {
  projectId: string;
  clientEmail: string;
  /** PEM: never logged nor shown. */
  privateKey: string;
  sendUrl: string;
  tokenUrl: string;
}

export interface FcmDefinition extends Common {
  kind: 'fcm';
  live: FcmTarget;
  /** For apps started with push_notification_debug=true; absent: `live` serves them. */
  debug?: FcmTarget;
}

export type ProviderDefinition = HttpCallbackDefinition | FcmDefinition;

const DEFAULT_TYPES = { 'http-callback': ['customhttp', 'httpcb'], fcm: ['fcm', 'gcm', 'android'] } as const;
const ALL_EVENTS = ['Message.Text', 'Notice.Joined', 'Notice.Left', 'Notice.PushUrl', 'Notice.Custom', 'Notice.FileUploaded'];
const FCM_SEND_URL = 'https://fcm.googleapis.com/v1/projects/{projectId}/messages:send';
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const ONLY = {
  'http-callback': ['url', 'debugUrl', 'secretFile', 'secretEnv'],
  fcm: ['credentialsFile', 'projectId', 'sendUrl', 'tokenUrl', 'debug'],
};

interface Options {
  kind: 'http-callback' | 'fcm';
  types?: string[];
  enabled: boolean;
  timeoutMs: number;
  events?: string[];
  defaultLanguage: string;
  messages: Record<string, Partial<Templates>>;
  description?: string;
  url?: string;
  debugUrl?: string;
  secretFile?: string;
  secretEnv?: string;
  credentialsFile?: string;
  projectId?: string;
  sendUrl?: string;
  tokenUrl?: string;
  debug?: { credentialsFile?: string; projectId?: string; sendUrl?: string; tokenUrl?: string };
}

class Refused extends Error {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(reason);
  }
}

export function loadProviderFile(file: string, text: string): LoadResult<ProviderDefinition> {
  const checked = validateConfigText(file, text, 'push-provider');
  if (!checked.ok) return checked;
  const { name, label } = checked;
  const options = checked.options as unknown as Options;
  const problem = (field: string, reason: string): LoadResult<ProviderDefinition> => ({
    ok: false,
    name,
    problems: [{ file: label, field, reason } satisfies ConfigProblem],
  });
  const other = options.kind === 'fcm' ? 'http-callback' : 'fcm';
  const misplaced = ONLY[other].find((key) => key in options);
  if (misplaced) return problem(misplaced, `applies to kind ${other} only`);
  const common: Common = {
    name,
    types: options.types ?? [...DEFAULT_TYPES[options.kind]],
    enabled: options.enabled,
    timeoutMs: options.timeoutMs,
    events: options.events ?? ALL_EVENTS,
    defaultLanguage: options.defaultLanguage,
    messages: options.messages,
    ...(options.description ? { description: options.description } : {}),
  };
  const dir = path.dirname(file);
  try {
    if (options.kind === 'http-callback') {
      if (!options.url) return problem('url', 'is required for kind http-callback');
      return {
        ok: true,
        name,
        value: {
          ...common,
          kind: 'http-callback',
          url: options.url,
          ...(options.debugUrl ? { debugUrl: options.debugUrl } : {}),
          secret: readSecret(options, dir),
        },
      };
    }
    if (!options.credentialsFile) return problem('credentialsFile', 'is required for kind fcm');
    const live = fcmTarget(dir, options.credentialsFile, options, 'credentialsFile');
    const debug = options.debug
      ? fcmTarget(
          dir,
          options.debug.credentialsFile ?? options.credentialsFile,
          { ...options, ...options.debug },
          'debug.credentialsFile',
        )
      : undefined;
    return { ok: true, name, value: { ...common, kind: 'fcm', live, ...(debug ? { debug } : {}) } };
  } catch (err) {
    if (err instanceof Refused) return problem(err.field, err.message);
    throw err;
  }
}

/** What a provider's log line and admin listing show: everything but its secrets. */
export function publicProvider(provider: ProviderDefinition): Record<string, unknown> {
  if (provider.kind === 'http-callback') {
    const { secret: _secret, ...shown } = provider;
    return shown;
  }
  const target = ({ privateKey: _key, ...shown }: FcmTarget): Record<string, unknown> => shown;
  return { ...provider, live: target(provider.live), ...(provider.debug ? { debug: target(provider.debug) } : {}) };
}

function readSecret(options: Options, dir: string): string {
  if ((options.secretFile === undefined) === (options.secretEnv === undefined))
    throw new Refused('secretFile', 'give the signing key in exactly one of secretFile and secretEnv');
  let secret: string | undefined;
  if (options.secretFile !== undefined) secret = readText(dir, options.secretFile, 'secretFile');
  else {
    secret = process.env[options.secretEnv!];
    if (secret === undefined) throw new Refused('secretEnv', `the environment variable ${options.secretEnv} is not set`);
  }
  secret = secret.trim();
  if (secret.length < 16)
    throw new Refused(options.secretFile ? 'secretFile' : 'secretEnv', 'the signing key must be 16 characters or more');
  return secret;
}

function readText(dir: string, file: string, field: string): string {
  const full = path.resolve(dir, file);
  try {
    return fs.readFileSync(full, 'utf8');
  } catch (err) {
    throw new Refused(field, `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function fcmTarget(
  dir: string,
  credentialsFile: string,
  options: { projectId?: string; sendUrl?: string; tokenUrl?: string },
  field: string,
): FcmTarget {
  let account: Record<string, unknown>;
  try {
    account = JSON.parse(readText(dir, credentialsFile, field)) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof Refused) throw err;
    throw new Refused(field, `${credentialsFile} is not a JSON service account key`);
  }
  const text = (key: string): string | undefined => {
    const value = account[key];
    return typeof value === 'string' ? value : undefined;
  };
  const clientEmail = text('client_email');
  const privateKey = text('private_key');
  const projectId = options.projectId ?? text('project_id');
  if (!clientEmail || !privateKey)
    throw new Refused(field, `${credentialsFile} has no client_email and private_key (a service account key)`);
  if (!projectId) throw new Refused(field, `${credentialsFile} has no project_id; give projectId`);
  try {
    createPrivateKey(privateKey);
  } catch {
    throw new Refused(field, `the private_key of ${credentialsFile} is not a PEM private key`);
  }
  return {
    projectId,
    clientEmail,
    privateKey,
    sendUrl: (options.sendUrl ?? FCM_SEND_URL).replace('{projectId}', projectId),
    tokenUrl: options.tokenUrl ?? text('token_uri') ?? GOOGLE_TOKEN_URL,
  };
}
