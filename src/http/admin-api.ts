// The admin API's reads and writes of single services and endpoints (ours, under /genesys/1/admin/):
// GET one with its ETag, POST to create, PUT to create or replace, PATCH (JSON merge patch), DELETE.
// Bodies are JSON; `?dryRun=true` answers what would change and writes nothing.

import Router from '@koa/router';
import type { Context } from 'koa';
import type { ConfigEditor, ChangeRequest } from '../admin/config-editor.ts';
import type { Json } from '../admin/merge-patch.ts';
import type { Registry } from '../config/registry.ts';
import { GatewayError } from '../errors.ts';
import { adminOf, type AdminAccess } from './admin-access.ts';

export const ADMIN_BASE = '/genesys/1/admin';

/** One kind of config the API edits: its path segment, its editor, and what callers may see of a loaded entry. */
export interface AdminKind<T> {
  /** `services` or `endpoints`. */
  segment: string;
  editor: ConfigEditor<T>;
  registry: Registry<T>;
  /** The loaded value as the API shows it (never secrets). A method, so that kinds of any T fit one list. */
  show(value: T): unknown;
}

const JSON_TYPES = new Set(['application/json', 'application/merge-patch+json']);
const MAX_DEPTH = 32;

export function adminApiRoutes(kinds: Array<AdminKind<unknown>>, access: AdminAccess): Router {
  const router = new Router({ prefix: ADMIN_BASE });
  for (const kind of kinds) {
    const one = `/${kind.segment}/:name`;

    router.get(one, access.require('read'), async (ctx) => {
      const name = ctx.params.name;
      const file = await kind.editor.read(name);
      const entry = kind.registry.list().find((e) => e.name === name);
      if (!file && !entry) throw new GatewayError('NotFound', `There is no ${kind.editor.kind} '${name}'.`);
      const rejection = kind.registry.rejected().find((r) => r.file === (file?.file ?? entry?.file));
      const mayWrite = adminOf(ctx).role === 'read-write';
      if (file) ctx.set('ETag', file.etag);
      ctx.body = {
        name,
        file: file?.file ?? entry!.file,
        ...(file ? { etag: file.etag, source: mayWrite ? (file.source ?? null) : kind.editor.redact(file.source) } : {}),
        options: entry ? kind.show(entry.value) : null,
        ...(entry ? { loadedAt: entry.loadedAt } : {}),
        ...(rejection
          ? {
              problems: rejection.problems.map(({ field, reason }) => ({ field, reason })),
              lastGoodServing: rejection.lastGoodServing,
            }
          : {}),
      };
    });

    router.post(`/${kind.segment}`, access.require('write'), async (ctx) => {
      const body = jsonBody(ctx);
      if (typeof body !== 'object' || body === null || Array.isArray(body) || typeof body.name !== 'string') {
        throw new GatewayError(
          'InvalidParameter',
          `Send the new ${kind.editor.kind} as a JSON object with its "name" and its options.`,
        );
      }
      const { name, ...options } = body;
      await answer(ctx, kind, { ...request(ctx, 'create', name), body: options });
    });
    router.put(one, access.require('write'), async (ctx) => {
      await answer(ctx, kind, { ...request(ctx, 'replace', ctx.params.name), body: jsonBody(ctx) });
    });
    router.patch(one, access.require('write'), async (ctx) => {
      await answer(ctx, kind, { ...request(ctx, 'patch', ctx.params.name), body: jsonBody(ctx) });
    });
    router.delete(one, access.require('write'), async (ctx) => {
      await answer(ctx, kind, request(ctx, 'delete', ctx.params.name));
    });
  }
  return router;
}

function request(ctx: Context, action: ChangeRequest['action'], name: string): ChangeRequest {
  const caller = adminOf(ctx);
  const dryRun = ctx.query.dryRun;
  if (dryRun !== undefined && dryRun !== 'true' && dryRun !== 'false') {
    throw new GatewayError('InvalidParameter', "The parameter 'dryRun' must be true or false.");
  }
  const header = (h: string): string | undefined => (ctx.get(h) === '' ? undefined : ctx.get(h));
  return {
    action,
    name,
    dryRun: dryRun === 'true',
    ...(header('if-match') !== undefined ? { ifMatch: header('if-match') } : {}),
    ...(header('if-none-match') !== undefined ? { ifNoneMatch: header('if-none-match') } : {}),
    who: { name: caller.who, address: caller.address },
  };
}

async function answer(ctx: Context, kind: AdminKind<unknown>, change: ChangeRequest): Promise<void> {
  const outcome = await kind.editor.change(change);
  const entry = kind.registry.list().find((e) => e.name === outcome.name);
  if (outcome.etag) ctx.set('ETag', outcome.etag);
  if (outcome.created && !outcome.dryRun) {
    ctx.status = 201;
    ctx.set('Location', `${ADMIN_BASE}/${kind.segment}/${outcome.name}`);
  }
  ctx.body = { ...outcome, options: !outcome.dryRun && entry && outcome.after ? kind.show(entry.value) : null };
}

/** The request's JSON body (the edge layer read its text), refused unless sent as JSON: a form of another site cannot be. */
function jsonBody(ctx: Context): Json {
  const type = ctx.request.type.trim().toLowerCase();
  if (!JSON_TYPES.has(type)) {
    throw new GatewayError(
      'UnsupportedMediaType',
      'Send the body as application/json (or application/merge-patch+json for PATCH).',
    );
  }
  const text = typeof ctx.request.body === 'string' ? ctx.request.body : '';
  if (text.trim() === '') throw new GatewayError('InvalidParameter', 'The body is empty: send a JSON object.');
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch {
    throw new GatewayError('InvalidParameter', 'The body is not valid JSON.');
  }
  if (tooDeep(value, 0)) throw new GatewayError('InvalidParameter', `The body is nested deeper than ${MAX_DEPTH} levels.`);
  return value;
}

/** Stops at the limit, so a hostile nesting never recurses further than MAX_DEPTH. */
function tooDeep(value: Json, level: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (level >= MAX_DEPTH) return true;
  return Object.values(value).some((v) => tooDeep(v, level + 1));
}
