// Starts a real gateway on an ephemeral port with its own temporary folders, and calls it over HTTP.

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Clock } from '../../src/chat/types.ts';
import { startGateway, type Gateway } from '../../src/gateway.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { readSettings, type Settings } from '../../src/settings.ts';

export interface TestGateway extends Gateway {
  dir: string;
  servicesDir: string;
  endpointsDir: string;
  settings: Settings;
  /** Writes a service file (an object is written as JSON). */
  writeService(file: string, content: unknown): Promise<void>;
  /** Writes an endpoint file (an object is written as JSON). */
  writeEndpoint(file: string, content: unknown): Promise<void>;
  post(pathname: string, body?: Body, headers?: Record<string, string>): Promise<Reply>;
  get(pathname: string, headers?: Record<string, string>): Promise<Reply>;
}

export type Body = string | URLSearchParams | FormData | Uint8Array | Record<string, string>;

export interface Reply {
  status: number;
  headers: Headers;
  // Tests read arbitrary JSON fields of the gateway's answers.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export async function makeTempDir(prefix = 'gms-test-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function request(
  base: string,
  method: string,
  pathname: string,
  body?: Body,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const init: RequestInit = { method, headers };
  if (body !== undefined) {
    init.body = (
      typeof body === 'string' || body instanceof URLSearchParams || body instanceof FormData || body instanceof Uint8Array
        ? body
        : new URLSearchParams(body)
    ) as BodyInit;
  }
  const res = await fetch(base + pathname, init);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: the test sees the text.
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

export async function startTestGateway(
  options: {
    services?: Record<string, unknown>;
    /** Endpoint files; by default an open gms_builtin without agents, so services take chats. */
    endpoints?: Record<string, unknown>;
    env?: Record<string, string>;
    dir?: string;
    /** The gateway's logger (default: one at TEST_LOG_LEVEL, silent). */
    log?: Logger;
    /** The gateway's clock (a TestClock moves time forward without waiting; default: real time). */
    clock?: Clock;
  } = {},
): Promise<TestGateway> {
  const dir = options.dir ?? (await makeTempDir());
  const servicesDir = path.join(dir, 'services.d');
  const endpointsDir = path.join(dir, 'endpoints.d');
  await fs.mkdir(servicesDir, { recursive: true });
  await fs.mkdir(endpointsDir, { recursive: true });
  const writeIn =
    (folder: string) =>
    (file: string, content: unknown): Promise<void> =>
      fs.writeFile(path.join(folder, file), typeof content === 'string' ? content : JSON.stringify(content));
  const write = writeIn(servicesDir);
  const writeEndpoint = writeIn(endpointsDir);
  if (!options.dir) {
    for (const [file, content] of Object.entries(options.services ?? { 'request-chat.json': {} })) await write(file, content);
    for (const [file, content] of Object.entries(options.endpoints ?? { 'gms_builtin.json': {} }))
      await writeEndpoint(file, content);
  }
  const settings = readSettings({
    PORT: '0',
    HOST: '127.0.0.1',
    SERVICES_DIR: servicesDir,
    ENDPOINTS_DIR: endpointsDir,
    STORE_URL: 'memory://',
    RELOAD_SETTLE_MS: '50',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // Longer than the tests' own keep-alive (fetch keeps idle sockets 4 s): on a busy machine a request sent
    // on a socket the gateway was closing at that moment fails with "fetch failed" (README, KEEP_ALIVE_TIMEOUT_MS).
    KEEP_ALIVE_TIMEOUT_MS: '60000',
    ...options.env,
  });
  const gateway = await startGateway(settings, options.log ?? createLogger(settings.logLevel), { clock: options.clock });
  return {
    ...gateway,
    dir,
    servicesDir,
    endpointsDir,
    settings,
    writeService: write,
    writeEndpoint,
    post: (p, b, h) => request(gateway.url, 'POST', p, b, h),
    get: (p, h) => request(gateway.url, 'GET', p, undefined, h),
  };
}

/** What a value found truthy is. */
type Truthy<T> = Exclude<T, undefined | null | false | 0 | ''>;

/** Polls `check` until it returns a truthy value (no fixed sleeps), or fails after `ms`. */
export async function eventually<T>(check: () => Promise<T> | T, ms = 3000, what = 'condition'): Promise<Truthy<T>> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as Truthy<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
