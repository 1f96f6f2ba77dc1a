// Reading one configuration file (JSON or YAML) into a plain object, or saying why it cannot be read.
// Shared by every kind of file the gateway watches (services, endpoints).

import path from 'node:path';
import { describeErrors, validatorFor, type ConfigProblem } from './schemas.ts';
import { loadYaml } from './yaml.ts';

/** File base names usable as names in URLs (spec §5). */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const EXTENSIONS = ['.json', '.yaml', '.yml'];

export type Parsed = { ok: true; value: Record<string, unknown> } | { ok: false; problems: ConfigProblem[] };

/** What loading one config file gives: its name and value, or why it was refused. */
export type LoadResult<T> = { ok: true; name: string; value: T } | { ok: false; name?: string; problems: ConfigProblem[] };

/** A file read and validated against `schemas/<schema>.schema.json`, defaults filled in. */
export type Validated =
  | { ok: true; name: string; label: string; options: Record<string, unknown> }
  | { ok: false; name?: string; problems: ConfigProblem[] };

/**
 * The steps every kind of config file shares: parse, let `prepare` adjust the options (aliases) or
 * refuse them, then validate against the kind's schema.
 */
export function validateConfigText(
  file: string,
  text: string,
  schema: string,
  prepare?: (options: Record<string, unknown>, label: string) => ConfigProblem | undefined,
): Validated {
  const label = path.basename(file);
  const name = configName(file);
  const parsed = parseConfigText(file, text);
  if (!parsed.ok) return { ok: false, name, problems: parsed.problems };
  const options = { ...parsed.value };
  const refused = prepare?.(options, label);
  if (refused) return { ok: false, name, problems: [refused] };
  const validate = validatorFor(schema);
  if (!validate(options)) return { ok: false, name, problems: describeErrors(label, validate.errors) };
  return { ok: true, name: name!, label, options };
}

/**
 * The name a config file defines, or undefined for files that are not config files at all
 * (editor swap and backup files, dotfiles, other extensions): those are ignored, not rejected.
 */
export function configName(file: string): string | undefined {
  const base = path.basename(file);
  if (base.startsWith('.') || base.endsWith('~')) return undefined;
  const ext = path.extname(base).toLowerCase();
  if (!EXTENSIONS.includes(ext)) return undefined;
  return base.slice(0, -ext.length);
}

export function parseConfigText(file: string, text: string): Parsed {
  const label = path.basename(file);
  const name = configName(file);
  if (name === undefined || !NAME_PATTERN.test(name)) {
    return fail(label, '', `the file name must be <name>.json, .yaml or .yml, where <name> matches ${NAME_PATTERN.source}`);
  }
  if (text.trim() === '') return fail(label, '', 'the file is empty');
  let value: unknown;
  try {
    value =
      path.extname(file).toLowerCase() === '.json'
        ? JSON.parse(text)
        : loadYaml().parse(text, { maxAliasCount: 100, logLevel: 'error' });
  } catch (err) {
    return fail(label, '', path.extname(file).toLowerCase() === '.json' ? jsonError(text, err) : yamlError(err));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail(label, '', 'must hold one object of options');
  }
  return { ok: true, value: value as Record<string, unknown> };
}

// A parser's message quotes the text around the error: the reason says only where it is, so that a
// refusal (logged, listed on the admin routes) never shows what a file holds.

function jsonError(text: string, err: unknown): string {
  const at = /at position (\d+)/.exec((err as Error).message);
  if (!at) return 'not valid JSON';
  const before = text.slice(0, Number(at[1]));
  const line = before.split('\n').length;
  return `not valid JSON at line ${line}, column ${before.length - before.lastIndexOf('\n')}`;
}

function yamlError(err: unknown): string {
  if (!(err instanceof loadYaml().YAMLParseError)) return 'not valid YAML';
  const where = err.linePos ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}` : '';
  return `not valid YAML (${err.code})${where}`;
}

function fail(file: string, field: string, reason: string): Parsed {
  return { ok: false, problems: [{ file, field, reason }] };
}
