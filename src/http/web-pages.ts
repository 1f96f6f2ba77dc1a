// The static pages under src/web/: the agent console at /agent/ and the customer demo at /demo/, the
// site icon, and what the customer widget needs to know of a service before the customer types.
// Only files that exist in those folders are served, by name; nothing outside them can be reached.

import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import type { ServiceLookup } from '../chat/types.ts';
import { GatewayError } from '../errors.ts';

const WEB_DIR = fileURLToPath(new URL('../web/', import.meta.url));
/** Each is a folder of src/web/ served at its own path; demo/v2 is the Chat API v2 demo, admin the admin page. */
const PAGES = ['agent', 'demo', 'demo/v2', 'admin'];
const FILE_NAME = /^[a-z0-9][a-z0-9-]*\.(html|css|js|svg)$/;
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export function webPages(services: ServiceLookup): Router {
  const router = new Router();
  for (const page of PAGES) {
    router.get(`/${page}`, async (ctx, next) => {
      // The router also matches `/page/` here; only the bare name is sent to the folder.
      if (ctx.path.endsWith('/')) return void (await next());
      ctx.redirect(`/${page}/`);
    });
    router.get([`/${page}/`, `/${page}/:file`], async (ctx, next) => {
      // From the path, not ctx.params: the router merges the params of every matched route, so /demo/v2/
      // would still carry the `file` that /demo/:file took from it.
      const file = ctx.path.slice(page.length + 2) || 'index.html';
      if (!FILE_NAME.test(file)) return void (await next());
      let body: Buffer;
      try {
        body = await fs.readFile(path.join(WEB_DIR, page, file));
      } catch {
        return void (await next());
      }
      ctx.type = TYPES[path.extname(file)]!;
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.body = body;
    });
  }

  // Browsers ask for /favicon.ico whatever the page says; an SVG answers it (every current browser shows it).
  router.get(['/favicon.ico', '/favicon.svg'], async (ctx) => {
    ctx.type = TYPES['.svg']!;
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = await fs.readFile(path.join(WEB_DIR, 'favicon.svg'));
  });

  /** The widget counts characters against the service's limit before Send; the limit is no secret (a 400 names it). */
  router.get('/demo/service/:name', (ctx) => {
    const service = services(ctx.params.name);
    if (!service) throw new GatewayError('ServiceNotFound', `No service named '${ctx.params.name}'.`);
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = { service: service.name, enabled: service.enabled, maxMessageLength: service.maxMessageLength };
  });
  return router;
}
