// Gateway settings: read once from the environment, with defaults that run on a fresh machine; every bad
// value is reported at once, one line each, before anything starts.

import fs from 'node:fs';
import path from 'node:path';
import { parseAdminTokens, type AdminToken } from './admin/admin-tokens.ts';
import type { ProxyTrust } from './http/client-address.ts';
import { DEFAULT_CACHE_ENTRIES } from './store/kv-store.ts';

export interface Settings {
  /** TCP port; 0 picks a free one (tests). */
  port: number;
  host: string;
  servicesDir: string;
  endpointsDir: string;
  /** `sqlite://path`, `memory://`, or `redis://host:port`. */
  storeUrl: string;
  /** Prefix for every store key and pub/sub channel, so several gateways can share one Redis. */
  storePrefix: string;
  /** How many recently used values the embedded store keeps in memory (0: none). */
  storeCacheEntries: number;
  logLevel: string;
  /** Allowed CORS origins; `*` allows any. */
  corsOrigins: string[];
  /** Largest request body accepted, in bytes. */
  bodyLimitBytes: number;
  /** How often expired chats are looked for and ended, in milliseconds. */
  sweepIntervalMs: number;
  /** How often the sweeping node also scans the whole store (queue repair, agents' chat counts), in milliseconds. */
  sweepScanIntervalMs: number;
  /** Milliseconds the watcher waits for a file to stop changing before reading it. */
  reloadSettleMs: number;
  /** Most events one chat's transcript may hold; more are refused with an error, never dropped. */
  maxTranscriptEvents: number;
  /** Request rates (token buckets): sustained requests per second and burst; a rate of 0 turns a limit off. */
  rateLimit: {
    perIp: { perSecond: number; burst: number };
    perSession: { perSecond: number; burst: number };
    /** Client addresses never limited (the operator's own host by default). */
    exempt: string[];
  };
  /** Caps per client address: live sessions and waiting chats (0: no cap); RATE_LIMIT_EXEMPT addresses are not capped. */
  perAddress: { sessions: number; waiting: number };
  /** Whether the gateway sits behind trusted proxies that name the client in a header (off: never read). */
  proxy: ProxyTrust;
  /** HTTP server timeouts, in milliseconds, so that slow clients cannot hold connections. */
  timeouts: { headersMs: number; requestMs: number; keepAliveMs: number; stopMs: number };
  /** Admin bearer tokens (hashed) with their roles; none: the admin doors answer loopback callers only. */
  adminTokens: AdminToken[];
  /** The CometD endpoint's own bounds (its bodies and rates follow BODY_LIMIT_BYTES and RATE_LIMIT_IP_*). */
  cometd: {
    /** Most Bayeux messages in one request or websocket message. */
    maxMessages: number;
    /** Most live CometD clients one client address may hold (addresses in RATE_LIMIT_EXEMPT are not limited). */
    maxClientsPerAddress: number;
  };
  /** Push notifications to mobile apps in the background (README "Push notifications to mobile apps"). */
  push: {
    /** The folder of provider files (push.d/). */
    dir: string;
    /** When, and how often, an absent customer's chat queues a notification. */
    awayMs: number;
    coalesceMs: number;
    minIntervalMs: number;
    /** How often each node looks for notifications due, in milliseconds. */
    drainIntervalMs: number;
    /** How long a node's claim on a notification it sends keeps other nodes off it. */
    claimMs: number;
    retry: { baseMs: number; maxMs: number; maxAttempts: number };
  };
}

type Env = Record<string, string | undefined>;

/** Bad settings, one line each (`setting PORT="abc": must be a whole number of at least 0`). */
export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'SettingsError';
  }
}

/** The problems found so far while one environment is read, so that a bad value does not hide the next. */
const found = new WeakMap<Env, string[]>();

/** Records a bad value of `env` and returns `fallback`, for the reading to go on to the other settings. */
function invalid<T>(env: Env, name: string, reason: string, fallback: T): T {
  const problem = `setting ${name}=${JSON.stringify(env[name])}: ${reason}`;
  const problems = found.get(env);
  if (!problems) throw new SettingsError([problem]);
  problems.push(problem);
  return fallback;
}

function integer(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\s*[0-9]+\s*$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    return invalid(env, name, `must be a whole number ${range}`, fallback);
  }
  return value;
}

/** A setting read by `read`, whose error (a message naming the setting) is recorded like the others'. */
function checked<T>(env: Env, read: () => T, fallback: T): T {
  try {
    return read();
  } catch (err) {
    const problems = found.get(env);
    if (!problems || !(err instanceof Error)) throw err;
    problems.push(err.message);
    return fallback;
  }
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

function logLevel(env: Env, name: string, fallback: string): string {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  return LOG_LEVELS.includes(raw) ? raw : invalid(env, name, `must be one of ${LOG_LEVELS.join(', ')}`, fallback);
}

const STORE_SCHEMES = ['sqlite', 'memory', 'redis', 'rediss'];

function storeUrl(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const scheme = /^([a-z]+):\/\//.exec(raw)?.[1];
  if (!scheme || !STORE_SCHEMES.includes(scheme))
    return invalid(env, name, 'must be sqlite://<file>, memory:// or redis://host:port', fallback);
  if (scheme === 'sqlite' && raw.length === 'sqlite://'.length)
    return invalid(env, name, 'names no file (sqlite://<file>)', fallback);
  return raw;
}

/** Reads every setting of `env`; throws a SettingsError listing every bad value. */
export function readSettings(env: Env = process.env): Settings {
  const problems: string[] = [];
  found.set(env, problems);
  try {
    const settings = readEach(env);
    if (problems.length > 0) throw new SettingsError(problems);
    return settings;
  } finally {
    found.delete(env);
  }
}

/** ADMIN_TOKENS and the lines of ADMIN_TOKENS_FILE (a mounted secret), together. */
function adminTokens(env: Env, cwd: string): AdminToken[] {
  const inline = env.ADMIN_TOKENS ?? '';
  const file = env.ADMIN_TOKENS_FILE ? path.resolve(cwd, env.ADMIN_TOKENS_FILE) : undefined;
  let fromFile = '';
  if (file) {
    try {
      fromFile = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(`setting ADMIN_TOKENS_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, {
        cause: err,
      });
    }
  }
  return parseAdminTokens([inline, fromFile].join('\n'), file ? 'ADMIN_TOKENS / ADMIN_TOKENS_FILE' : 'ADMIN_TOKENS');
}

function yesNo(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['true', '1', 'yes', 'on'].includes(raw)) return true;
  if (['false', '0', 'no', 'off'].includes(raw)) return false;
  return invalid(env, name, 'must be true or false', fallback);
}

function headerName(env: Env, name: string, fallback: string): string {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^[A-Za-z0-9-]+$/.test(raw)) return invalid(env, name, 'must be an HTTP header name', fallback);
  return raw.toLowerCase();
}

function readEach(env: Env): Settings {
  const cwd = process.cwd();
  return {
    port: integer(env, 'PORT', 8080, 0, 65_535),
    host: env.HOST || '0.0.0.0',
    servicesDir: path.resolve(cwd, env.SERVICES_DIR || 'services.d'),
    endpointsDir: path.resolve(cwd, env.ENDPOINTS_DIR || 'endpoints.d'),
    storeUrl: storeUrl(env, 'STORE_URL', `sqlite://${path.resolve(cwd, 'data', 'sessions.sqlite')}`),
    storePrefix: env.STORE_PREFIX || 'gms',
    storeCacheEntries: integer(env, 'STORE_CACHE_ENTRIES', DEFAULT_CACHE_ENTRIES, 0),
    logLevel: logLevel(env, 'LOG_LEVEL', 'info'),
    corsOrigins: (env.CORS_ORIGINS || '*')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', 64 * 1024, 1),
    sweepIntervalMs: integer(env, 'SWEEP_INTERVAL_MS', 5000, 10),
    sweepScanIntervalMs: integer(env, 'SWEEP_SCAN_INTERVAL_MS', 300_000, 10),
    reloadSettleMs: integer(env, 'RELOAD_SETTLE_MS', 100, 0),
    maxTranscriptEvents: integer(env, 'MAX_TRANSCRIPT_EVENTS', 10_000, 1),
    rateLimit: {
      perIp: { perSecond: integer(env, 'RATE_LIMIT_IP_PER_SEC', 100, 0), burst: integer(env, 'RATE_LIMIT_IP_BURST', 200, 1) },
      perSession: {
        perSecond: integer(env, 'RATE_LIMIT_SESSION_PER_SEC', 20, 0),
        burst: integer(env, 'RATE_LIMIT_SESSION_BURST', 40, 1),
      },
      exempt: (env.RATE_LIMIT_EXEMPT ?? '127.0.0.1,::1,::ffff:127.0.0.1')
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean),
    },
    perAddress: {
      sessions: integer(env, 'MAX_SESSIONS_PER_ADDRESS', 30, 0),
      waiting: integer(env, 'MAX_WAITING_PER_ADDRESS', 5, 0),
    },
    proxy: {
      trust: yesNo(env, 'TRUST_PROXY', false),
      ipHeader: headerName(env, 'PROXY_IP_HEADER', 'x-forwarded-for'),
      hops: integer(env, 'PROXY_HOPS', 1, 1),
    },
    timeouts: {
      headersMs: integer(env, 'HEADERS_TIMEOUT_MS', 10_000, 1),
      requestMs: integer(env, 'REQUEST_TIMEOUT_MS', 30_000, 1),
      keepAliveMs: integer(env, 'KEEP_ALIVE_TIMEOUT_MS', 5_000, 1),
      stopMs: integer(env, 'STOP_TIMEOUT_MS', 10_000, 0),
    },
    adminTokens: checked(env, () => adminTokens(env, cwd), []),
    cometd: {
      maxMessages: integer(env, 'COMETD_MAX_MESSAGES', 100, 1),
      maxClientsPerAddress: integer(env, 'COMETD_MAX_CLIENTS_PER_IP', 200, 1),
    },
    push: {
      dir: path.resolve(cwd, env.PUSH_DIR || 'push.d'),
      awayMs: integer(env, 'PUSH_AWAY_MS', 10_000, 0),
      coalesceMs: integer(env, 'PUSH_COALESCE_MS', 2000, 0),
      minIntervalMs: integer(env, 'PUSH_MIN_INTERVAL_MS', 15_000, 0),
      drainIntervalMs: integer(env, 'PUSH_DRAIN_INTERVAL_MS', 250, 10),
      claimMs: integer(env, 'PUSH_CLAIM_MS', 60_000, 100),
      retry: {
        baseMs: integer(env, 'PUSH_RETRY_BASE_MS', 1000, 1),
        maxMs: integer(env, 'PUSH_RETRY_MAX_MS', 300_000, 1),
        maxAttempts: integer(env, 'PUSH_MAX_ATTEMPTS', 8, 1, 100),
      },
    },
  };
}
