// Changes made through the admin API to one folder of config files (services.d/ or endpoints.d/): read a
// file with its ETag, then create, replace, patch or delete it, validated by the same loader (same schema,
// same messages) as the watcher, guarded by If-Match, written atomically (a temporary file in the same
// folder, renamed over the old one), applied at once, and logged as an audit line.

import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { LoadResult } from '../config/config-file.ts';
import { NAME_PATTERN } from '../config/config-file.ts';
import type { Registry } from '../config/registry.ts';
import { GatewayError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { assertWritable, candidateFiles, formatFor, parseSource, removeFile, writeAtomically } from './config-files.ts';
import { changedOptions, mergePatch, type Json } from './merge-patch.ts';

export type Action = 'create' | 'replace' | 'patch' | 'delete';

/** One file as the admin API shows it. */
export interface ConfigFile {
  name: string;
  /** The file's base name in the folder. */
  file: string;
  text: string;
  /** A strong validator of the file's exact bytes. */
  etag: string;
  /** The options written in the file, or undefined when it does not parse. */
  source: Record<string, unknown> | undefined;
}

export interface ChangeRequest {
  action: Action;
  name: string;
  /** The new content (create, replace) or the merge patch (patch). */
  body?: Json;
  /** The If-Match header as sent; undefined when absent. */
  ifMatch?: string;
  /** The If-None-Match header as sent (`*`: create only). */
  ifNoneMatch?: string;
  dryRun: boolean;
  /** Who asks, for the audit line. */
  who: { name: string; address: string };
}

export interface ChangeOutcome {
  action: Action;
  kind: string;
  name: string;
  file: string;
  dryRun: boolean;
  /** True when no file defined the name before (a create, or a PUT of a new name). */
  created: boolean;
  /** The ETag of the file after the change (absent once deleted). */
  etag?: string;
  changes: Array<{ option: string; before?: unknown; after?: unknown }>;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

/** What the rest of the gateway offers the editor: the folder's watcher and registry. */
export interface EditorOptions<T> {
  kind: string;
  dir: string;
  load: (file: string, text: string) => LoadResult<T>;
  registry: Registry<T>;
  /** Applies a file now (ConfigWatcher.reload). */
  reload: (file: string) => Promise<void>;
  log: Logger;
  /** The content with its secrets hidden (agent token hashes): for audit lines and read-only callers. */
  redact?: (source: Record<string, unknown>) => Record<string, unknown>;
  /** Brings the folder up to date with the changes other nodes made (ConfigSync), before a change is checked. */
  catchUp?: () => Promise<void>;
  /** Records a change for every node and applies it here (ConfigSync); without it the file is written here only. */
  commit?: (change: { kind: string; name: string; file: string; text: string | null; by: string }) => Promise<unknown>;
}

export function etagOf(text: string): string {
  return `"${createHash('sha256').update(text, 'utf8').digest('base64url').slice(0, 27)}"`;
}

export class ConfigEditor<T> {
  /** Per name, the change under way: changes of one name on this node happen one after another. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(readonly opts: EditorOptions<T>) {}

  get kind(): string {
    return this.opts.kind;
  }

  redact(source: Record<string, unknown> | null | undefined): Record<string, unknown> | null {
    if (!source) return null;
    return this.opts.redact ? this.opts.redact(source) : source;
  }

  /** The file defining `name` now (the one the registry loaded it from, else the first found), or undefined. */
  async read(name: string): Promise<ConfigFile | undefined> {
    checkName(this.opts.kind, name);
    const loadedFrom = this.opts.registry.list().find((e) => e.name === name)?.file;
    const candidates = [...(loadedFrom ? [loadedFrom] : []), ...candidateFiles(name)];
    for (const file of candidates) {
      let text: string;
      try {
        text = await fs.readFile(path.join(this.opts.dir, file), 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      return { name, file, text, etag: etagOf(text), source: parseSource(file, text) };
    }
    return undefined;
  }

  change(request: ChangeRequest): Promise<ChangeOutcome> {
    checkName(this.opts.kind, request.name);
    const previous = this.queues.get(request.name) ?? Promise.resolve();
    const run = previous.then(
      () => this.apply(request),
      () => this.apply(request),
    );
    this.queues.set(request.name, run);
    void run
      .finally(() => {
        if (this.queues.get(request.name) === run) this.queues.delete(request.name);
      })
      .catch(() => undefined);
    return run;
  }

  private async apply(request: ChangeRequest): Promise<ChangeOutcome> {
    const { kind } = this.opts;
    const { action, name } = request;
    await this.opts.catchUp?.();
    const current = await this.read(name);
    checkPreconditions(kind, request, current);

    const file = current?.file ?? `${name}.json`;
    const before = current?.source ?? null;
    let after: Record<string, unknown> | null = null;
    if (action === 'patch') {
      if (!before) throw new GatewayError('Conflict', `${file} does not parse, so it cannot be patched: replace it with PUT.`);
      after = asOptions(mergePatch(before as Json, request.body ?? null), kind);
    } else if (action !== 'delete') {
      after = asOptions(request.body ?? null, kind);
    }

    let text: string | undefined;
    if (after) {
      text = formatFor(file, after);
      const checked = this.opts.load(path.join(this.opts.dir, file), text);
      if (!checked.ok) {
        throw new GatewayError(
          'InvalidParameter',
          `The ${kind} is not valid: ${checked.problems.map((p) => (p.field ? `${p.field}: ${p.reason}` : p.reason)).join('; ')}.`,
          {
            details: { problems: checked.problems.map(({ field, reason }) => ({ field, reason })) },
          },
        );
      }
    }

    const outcome: ChangeOutcome = {
      action,
      kind,
      name,
      file,
      dryRun: request.dryRun,
      created: current === undefined,
      ...(text !== undefined ? { etag: etagOf(text) } : {}),
      changes: changedOptions(before ?? undefined, after ?? undefined),
      before,
      after,
    };
    // A read-only folder (a ConfigMap) refuses the change before anything is recorded for the other nodes.
    await assertWritable(this.opts.dir, kind);
    if (request.dryRun) return outcome;

    const target = path.join(this.opts.dir, file);
    if (this.opts.commit) {
      await this.opts.commit({ kind, name, file, text: text ?? null, by: request.who.name });
    } else {
      if (text === undefined) await removeFile(target, kind);
      else await writeAtomically(target, text, kind);
      await this.opts.reload(target);
    }
    this.opts.log.info(
      {
        audit: {
          who: request.who.name,
          address: request.who.address,
          action,
          kind,
          name,
          file,
          before: this.redact(before),
          after: this.redact(after),
        },
      },
      `admin '${request.who.name}' ${PAST[action]} ${kind} '${name}' (${file})`,
    );
    return outcome;
  }
}

const PAST: Record<Action, string> = { create: 'created', replace: 'replaced', patch: 'patched', delete: 'deleted' };

function checkName(kind: string, name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new GatewayError('InvalidParameter', `A ${kind} name must match ${NAME_PATTERN.source}.`);
  }
}

/**
 * POST creates only; PUT creates or replaces; PATCH and DELETE need the file. Changing an existing file
 * needs If-Match (428 without, 412 when it names another version; `*` is any version), so that two admins
 * never overwrite each other unknowingly.
 */
function checkPreconditions(kind: string, request: ChangeRequest, current: ConfigFile | undefined): void {
  const { action, name, ifMatch, ifNoneMatch } = request;
  if (action === 'create' && current) {
    throw new GatewayError('Conflict', `The ${kind} '${name}' exists already (${current.file}); change it with PUT or PATCH.`);
  }
  if ((action === 'patch' || action === 'delete') && !current) {
    throw new GatewayError('NotFound', `There is no ${kind} '${name}'.`);
  }
  if (ifNoneMatch !== undefined && current && (ifNoneMatch.trim() === '*' || matches(ifNoneMatch, current.etag))) {
    throw new GatewayError('PreconditionFailed', `The ${kind} '${name}' exists already (If-None-Match).`, {
      headers: { ETag: current.etag },
    });
  }
  if (ifMatch !== undefined) {
    if (!current) throw new GatewayError('PreconditionFailed', `There is no ${kind} '${name}' to match (If-Match).`);
    if (ifMatch.trim() !== '*' && !matches(ifMatch, current.etag)) {
      throw new GatewayError(
        'PreconditionFailed',
        `The ${kind} '${name}' was changed since you read it: read it again, then retry.`,
        {
          headers: { ETag: current.etag },
          details: { etag: current.etag },
        },
      );
    }
  } else if (current && action !== 'create') {
    throw new GatewayError(
      'PreconditionRequired',
      `Changing the ${kind} '${name}' needs If-Match with its ETag (GET it first), or If-Match: * to change whatever version is there.`,
      {
        headers: { ETag: current.etag },
      },
    );
  }
}

/** Strong comparison against a list of entity tags (RFC 9110 §13.1.1): weak tags never match. */
function matches(header: string, etag: string): boolean {
  return header.split(',').some((tag) => tag.trim() === etag);
}

function asOptions(value: Json, kind: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new GatewayError('InvalidParameter', `A ${kind} is a JSON object of options.`);
  }
  return value;
}
