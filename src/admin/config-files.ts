// The files of a config folder as the admin side writes them: atomic writes and removals, whether the
// folder can be written at all (a read-only mount, a ConfigMap), and a file's options in its own format,
// so that a change reaches each node in the format of the file that node has (JSON or YAML).

import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { loadYaml } from '../config/yaml.ts';
import { GatewayError } from '../errors.ts';

/** The extensions a config file may have, in the order a name's file is looked for. */
export const EXTENSIONS = ['.json', '.yaml', '.yml'];

/** The files that may define `name` in a folder, in lookup order. */
export function candidateFiles(name: string): string[] {
  return EXTENSIONS.map((ext) => name + ext);
}

/**
 * The new content in a temporary file of the same folder (a dotfile, which the watcher ignores), flushed,
 * then renamed over the file: readers see the old file or the new one, never a part of it.
 */
export async function writeAtomically(target: string, text: string, kind: string): Promise<void> {
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await fs.open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, target);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw folderError(err, kind, target);
  }
}

/** Removes a file; true when there was one. */
export async function removeFile(target: string, kind: string): Promise<boolean> {
  try {
    await fs.unlink(target);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw folderError(err, kind, target);
  }
}

/** Whether files can be created in the folder (false on a read-only mount or without the permission). */
export async function folderWritable(dir: string): Promise<boolean> {
  try {
    await fs.access(dir, fs.constants.W_OK);
    return true;
  } catch (err) {
    if (readOnlyCode(err)) return false;
    throw err;
  }
}

/** Refuses a change before anything is recorded when the folder cannot take it. */
export async function assertWritable(dir: string, kind: string): Promise<void> {
  try {
    await fs.access(dir, fs.constants.W_OK);
  } catch (err) {
    throw folderError(err, kind, dir);
  }
}

/** The options written in a file's text, or undefined when it does not parse. */
export function parseSource(file: string, text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = file.endsWith('.json')
      ? JSON.parse(text)
      : loadYaml().parse(text, { maxAliasCount: 100, logLevel: 'silent' });
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The file's text in its own format: a YAML file stays YAML (its comments are not kept). */
export function formatFor(file: string, options: Record<string, unknown>): string {
  return file.endsWith('.json') ? `${JSON.stringify(options, null, 2)}\n` : loadYaml().stringify(options);
}

/** `text`, written for the file `from`, as the text of the file `to` (the same options, in that file's format). */
export function convertFor(from: string, to: string, text: string): string {
  const json = (file: string): boolean => file.endsWith('.json');
  if (json(from) === json(to)) return text;
  const options = parseSource(from, text);
  return options ? formatFor(to, options) : text;
}

function readOnlyCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EROFS' || code === 'EACCES' || code === 'EPERM' ? code : undefined;
}

/** A folder the gateway may not write (a read-only mount, a ConfigMap) is the operator's choice, not a fault. */
function folderError(err: unknown, kind: string, target: string): unknown {
  const code = readOnlyCode(err);
  if (code) {
    return new GatewayError(
      'Conflict',
      `The ${kind} folder cannot be written (${code}): change ${path.basename(target)} where it is deployed from.`,
      { cause: err },
    );
  }
  return err;
}
