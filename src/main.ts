// Entry point: read settings, start the gateway, stop it cleanly on SIGTERM/SIGINT, and keep a stray
// error from taking it down silently.

import { startGateway, type Gateway } from './gateway.ts';
import { createLogger } from './log.ts';
import { readSettings, SettingsError, type Settings } from './settings.ts';

/** The exit code of a gateway that would not start with the settings it was given (1 is a crash). */
const BAD_SETTINGS = 2;

let settings: Settings;
try {
  settings = readSettings();
} catch (err) {
  // Before any logger: the operator reads what to fix, one line per bad value, not a stack trace.
  const problems = err instanceof SettingsError ? err.problems : [err instanceof Error ? err.message : String(err)];
  for (const problem of problems) process.stderr.write(`gateway not started: ${problem}\n`);
  process.exit(BAD_SETTINGS);
}
const log = createLogger(settings.logLevel);

/** Longest wait for a clean stop after an unexpected error, before the process exits anyway. */
const CRASH_CLOSE_MS = 5000;
let gateway: Gateway | undefined;

// A promise nobody awaited failed: one operation was lost, the gateway is still sound, so it carries on
// (Node's default would end the process and every chat on it).
process.on('unhandledRejection', (reason: unknown) => {
  log.error({ err: describeError(reason) }, 'a background task failed and nothing handled it; the gateway carries on');
});
// An exception nobody caught may have left any state half-changed: stop as cleanly as possible, and exit
// non-zero so that the supervisor restarts the gateway.
process.once('uncaughtException', (err: Error) => {
  log.fatal({ err: describeError(err) }, 'an unexpected error: the gateway stops and must be restarted');
  setTimeout(() => process.exit(1), CRASH_CLOSE_MS).unref();
  void (gateway?.close() ?? Promise.resolve())
    .then(
      () => log.info('stopped after the unexpected error'),
      (closeErr: unknown) => log.error({ err: describeError(closeErr) }, 'could not stop cleanly'),
    )
    .finally(() => process.exit(1));
});

function describeError(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

try {
  const running = await startGateway(settings, log);
  gateway = running;
  log.info(
    { url: running.url, servicesDir: settings.servicesDir, services: running.services.list().map((s) => s.name) },
    `gateway listening on ${running.url} with ${running.services.list().length} service(s)`,
  );
  const stop = (signal: string): void => {
    log.info({ signal }, 'stopping: finishing requests in flight');
    running.close().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'could not stop cleanly');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
} catch (err) {
  log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'the gateway could not start');
  process.exit(1);
}
