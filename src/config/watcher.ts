// Keeps a Registry in step with a folder of config files: a full load at start, then chokidar events.
// Each file is read only once it has stopped changing (an editor's save in progress is not a bad
// file), loads of one file never overlap, and the last write always wins.

import fs from 'node:fs/promises';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '../log.ts';
import type { Registry } from './registry.ts';
import { formatProblem } from './schemas.ts';
import { configName, type LoadResult } from './config-file.ts';
import { readFolderFile } from './config-folder.ts';

export interface WatchOptions<T> {
  dir: string;
  /** What the folder holds, for log lines ("service", "endpoint"). */
  kind: string;
  load: (file: string, text: string) => LoadResult<T>;
  registry: Registry<T>;
  log: Logger;
  /** How long a file must be unchanged before it is read, in milliseconds. */
  settleMs: number;
  /** What a loaded entry's log line shows; secrets (agent token hashes) must not reach the logs. */
  describe?: (value: T) => unknown;
  /** What a loaded file gives that is accepted but not applied (GMS options), one line each, logged as warnings. */
  notices?: (file: string, value: T) => string[];
  /** Called after every applied change (metrics, re-routing). */
  onChange?: (event: { file: string; outcome: 'loaded' | 'rejected' | 'removed' }) => void;
}

export class ConfigWatcher<T> {
  private watcher?: FSWatcher;
  /** Per file: the load under way, and whether another is due once it ends. */
  private readonly busy = new Map<string, { again: boolean; done: Promise<void> }>();

  constructor(private readonly opts: WatchOptions<T>) {}

  /** Loads every file now, then follows changes. Resolves once the watcher is ready. */
  async start(): Promise<void> {
    const { dir, settleMs } = this.opts;
    await fs.mkdir(dir, { recursive: true });
    this.watcher = watch(dir, {
      ignoreInitial: true,
      depth: 0,
      awaitWriteFinish: { stabilityThreshold: Math.max(settleMs, 1), pollInterval: Math.max(10, Math.floor(settleMs / 4)) },
      ignored: (file: string) => file !== dir && configName(file) === undefined,
    });
    // schedule() never rejects: a change that cannot be applied is logged there.
    this.watcher.on('add', (f) => void this.schedule(f));
    this.watcher.on('change', (f) => void this.schedule(f));
    this.watcher.on('unlink', (f) => void this.schedule(f));
    this.watcher.on('error', (err) => this.opts.log.warn({ dir, err: String(err) }, `cannot watch the ${this.opts.kind} folder`));
    await new Promise<void>((resolve) => this.watcher!.once('ready', () => resolve()));
    const files = await fs.readdir(dir);
    await Promise.all(files.filter((f) => configName(f) !== undefined).map((f) => this.schedule(path.join(dir, f))));
  }

  async close(): Promise<void> {
    await this.watcher?.close();
    await Promise.all([...this.busy.values()].map((b) => b.done));
  }

  /** Reads one file now, without waiting for the watcher to notice it (the admin API wrote it). */
  reload(file: string): Promise<void> {
    return this.schedule(file);
  }

  /** Resolves once every load asked for so far has been applied (tests, CLI). */
  async settled(): Promise<void> {
    while (this.busy.size > 0) await Promise.all([...this.busy.values()].map((b) => b.done));
  }

  private schedule(file: string): Promise<void> {
    const current = this.busy.get(file);
    if (current) {
      current.again = true;
      return current.done;
    }
    const state = { again: false, done: Promise.resolve() };
    state.done = (async () => {
      do {
        state.again = false;
        await this.apply(file).catch((err: unknown) =>
          this.opts.log.error(
            { file: path.basename(file), err: String(err) },
            `could not apply a change to a ${this.opts.kind} file`,
          ),
        );
      } while (state.again);
      this.busy.delete(file);
    })();
    this.busy.set(file, state);
    return state.done;
  }

  private async apply(file: string): Promise<void> {
    const { kind, load, registry, log } = this.opts;
    const label = path.basename(file);
    const read = await readFolderFile(this.opts.dir, file);
    if (!read.ok && read.gone) {
      const removed = registry.remove(label);
      for (const name of removed) log.info({ file: label, [kind]: name }, `${kind} '${name}' removed: its file was deleted`);
      this.opts.onChange?.({ file: label, outcome: 'removed' });
      return;
    }
    const result: LoadResult<T> = read.ok
      ? load(file, read.text)
      : { ok: false, name: configName(file), problems: [{ file: label, field: '', reason: read.reason }] };
    if (result.ok) {
      const accepted = registry.accept(label, result.name, result.value);
      if (accepted.ok) {
        log.info(
          { file: label, [kind]: result.name, options: this.opts.describe ? this.opts.describe(result.value) : result.value },
          `${kind} '${result.name}' loaded from ${label}`,
        );
        for (const notice of this.opts.notices?.(label, result.value) ?? [])
          log.warn({ file: label, [kind]: result.name }, notice);
        this.opts.onChange?.({ file: label, outcome: 'loaded' });
      } else {
        log.warn({ file: label, reason: accepted.problem }, `${label} rejected: ${accepted.problem}`);
        this.opts.onChange?.({ file: label, outcome: 'rejected' });
      }
      return;
    }
    const rejection = registry.reject(label, result.name, result.problems);
    const still = rejection.lastGoodServing ? `; ${kind} '${result.name}' keeps serving its last valid version` : '';
    for (const p of result.problems) {
      log.warn({ file: p.file, field: p.field, reason: p.reason }, `${kind} file rejected: ${formatProblem(p)}${still}`);
    }
    this.opts.onChange?.({ file: label, outcome: 'rejected' });
  }
}
