// Entry point: read settings, start the gateway, stop it cleanly on SIGTERM/SIGINT.

import { startGateway } from './gateway.ts';
import { createLogger } from './log.ts';
import { readSettings } from './settings.ts';

const settings = readSettings();
const log = createLogger(settings.logLevel);

try {
  const gateway = await startGateway(settings, log);
  log.info(
    { url: gateway.url, servicesDir: settings.servicesDir, services: gateway.services.list().map((s) => s.name) },
    `gateway listening on ${gateway.url} with ${gateway.services.list().length} service(s)`,
  );
  const stop = (signal: string): void => {
    log.info({ signal }, 'stopping: finishing requests in flight');
    gateway.close().then(
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
