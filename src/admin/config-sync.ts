// Every node, the same configuration: each change made through the admin API is recorded in the store
// (one log key, one entry per service or endpoint name, numbered by a cluster-wide revision) and every node
// writes the changes it has not applied yet into its own folder, within a poll interval. A node remembers
// the last revision it applied in a dotfile of each folder, so a restart re-applies only newer API
// changes: the newest change of a name wins, whether made through the API or in a file.

import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { GatewayError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { OutageLog } from '../outage-log.ts';
import type { Store } from '../store/store.ts';
import { candidateFiles, convertFor, folderWritable, removeFile, writeAtomically } from './config-files.ts';

/** One API change as the log keeps it: the whole new file, or null once deleted. */
export interface LoggedChange {
  kind: string;
  name: string;
  file: string;
  text: string | null;
  revision: number;
  at: number;
  by: string;
}

interface ConfigLog {
  revision: number;
  entries: Record<string, LoggedChange>;
}

/** What one node reports of its configuration, for the admin listing (drift shows as different digests). */
export interface NodeConfig {
  node: string;
  /** The last API change this node applied. */
  revision: number;
  /** A digest of the services and endpoints this node has loaded now. */
  digest: string;
  seenAt: number;
}

export interface SyncedFolder {
  dir: string;
  /** Applies a file the sync wrote (ConfigWatcher.reload). */
  reload: (file: string) => Promise<void>;
  /** The file this node loaded a name from now (the registry's), if any. */
  fileOf: (name: string) => string | undefined;
}

export interface ConfigSyncOptions {
  store: Store;
  /** By kind (`service`, `endpoint`). */
  folders: Record<string, SyncedFolder>;
  node: string;
  log: Logger;
  /** What this node has loaded, as one string to digest. */
  loaded: () => string;
  pollMs?: number;
}

const LOG_KEY = 'config-log';
const NODES_KEY = 'config-nodes';
const MARKER = '.gms-applied-revision';
/** The log outlives any deployment; it is rewritten, never appended to, so it stays one entry per name. */
const KEEP_MS = 10 * 365 * 24 * 3600 * 1000;
const REPORT_MS = 2000;
/** A node not heard from for this long is left out of the listing. */
const GONE_MS = 10_000;

export class ConfigSync {
  private readonly applied: Record<string, number> = {};
  private running: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private lastReport = 0;
  private readonly outage: OutageLog;
  /** Revisions recorded by this node: applying them here needs no log line of its own (the audit line says it). */
  private readonly own = new Set<number>();
  /** Folders found read-only (said once each): their files stay the source on this node. */
  private readonly readOnly = new Set<string>();

  constructor(private readonly opts: ConfigSyncOptions) {
    this.outage = new OutageLog(opts.log, {
      down: 'cannot read the configuration changes made through the admin API; this node keeps its files as they are',
      back: 'configuration changes made through the admin API are followed again',
    });
  }

  /** Reads the markers and writes every API change this node has not applied yet, before the watchers load the folders. */
  async start(): Promise<void> {
    for (const [kind, folder] of Object.entries(this.opts.folders)) {
      await fs.mkdir(folder.dir, { recursive: true });
      const text = await fs.readFile(path.join(folder.dir, MARKER), 'utf8').catch(() => '0');
      this.applied[kind] = Number.parseInt(text, 10) || 0;
    }
    await this.catchUp(false);
  }

  /** Follows the other nodes' changes from now on. */
  follow(): void {
    const pollMs = this.opts.pollMs ?? 250;
    this.timer = setInterval(() => {
      this.catchUp(true).then(
        () => this.outage.recovered(),
        (err: unknown) => this.outage.failed(err),
      );
    }, pollMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.running.catch(() => undefined);
    await this.opts.store
      .update<Record<string, NodeConfig>, void>(NODES_KEY, (current) => {
        if (!current?.[this.opts.node]) return { result: undefined };
        const { [this.opts.node]: _gone, ...others } = current;
        return { write: others, ttlMs: GONE_MS * 6, result: undefined };
      })
      .catch(() => undefined);
  }

  /** Writes the changes not applied yet (one catch-up at a time), then reports this node's version when due. */
  catchUp(reload = true): Promise<void> {
    const run = this.running.catch(() => undefined).then(() => this.applyPending(reload));
    this.running = run;
    return run;
  }

  /**
   * Records an API change for every node, unless another node changed the same name since this node last
   * caught up (412: the admin read an older version), then applies it here before answering.
   */
  async record(change: Omit<LoggedChange, 'revision' | 'at'>): Promise<number> {
    const key = `${change.kind}/${change.name}`;
    const applied = this.applied[change.kind] ?? 0;
    const revision = await this.opts.store.update<ConfigLog, number>(LOG_KEY, (current) => {
      const log = current ?? { revision: 0, entries: {} };
      const existing = log.entries[key];
      if (existing && existing.revision > applied) {
        throw new GatewayError(
          'PreconditionFailed',
          `The ${change.kind} '${change.name}' was changed on another node a moment ago: read it again, then retry.`,
        );
      }
      const next = log.revision + 1;
      return {
        write: { revision: next, entries: { ...log.entries, [key]: { ...change, revision: next, at: Date.now() } } },
        ttlMs: KEEP_MS,
        result: next,
      };
    });
    this.own.add(revision);
    await this.catchUp(true);
    return revision;
  }

  /** Every node's configuration version as last reported (this node's is fresh). */
  async nodes(): Promise<NodeConfig[]> {
    await this.report(true);
    const all = (await this.opts.store.get<Record<string, NodeConfig>>(NODES_KEY)) ?? {};
    const now = Date.now();
    return Object.values(all)
      .filter((n) => now - n.seenAt < GONE_MS)
      .sort((a, b) => a.node.localeCompare(b.node));
  }

  /** This node's version: the last API change applied and a digest of what is loaded. */
  version(): NodeConfig {
    const revision = Math.min(...Object.values(this.applied));
    const digest = createHash('sha256').update(this.opts.loaded()).digest('hex').slice(0, 12);
    return { node: this.opts.node, revision, digest, seenAt: Date.now() };
  }

  private async applyPending(reload: boolean): Promise<void> {
    const log = await this.opts.store.get<ConfigLog>(LOG_KEY);
    let changed = false;
    if (log) {
      for (const [kind, folder] of Object.entries(this.opts.folders)) {
        const from = this.applied[kind] ?? 0;
        if (log.revision <= from) continue;
        const pending = Object.values(log.entries)
          .filter((e) => e.kind === kind && e.revision > from)
          .sort((a, b) => a.revision - b.revision);
        if (!(await folderWritable(folder.dir))) {
          this.sayReadOnly(kind, folder.dir, pending.length);
          this.applied[kind] = log.revision;
          continue;
        }
        for (const entry of pending) {
          const files = await this.apply(folder, entry);
          if (reload) for (const file of files) await folder.reload(file);
          if (!this.own.delete(entry.revision)) {
            this.opts.log.info(
              {
                kind,
                name: entry.name,
                file: entry.file,
                files: files.map((f) => path.basename(f)),
                revision: entry.revision,
                by: entry.by,
              },
              `${files.map((f) => path.basename(f)).join(', ') || entry.file} ${entry.text === null ? 'deleted' : 'written'}: admin '${entry.by}' changed ${kind} '${entry.name}' on another node (or while this one was down)`,
            );
          }
        }
        this.applied[kind] = log.revision;
        await writeAtomically(path.join(folder.dir, MARKER), String(log.revision), kind);
        changed = true;
      }
    }
    await this.report(changed);
  }

  /**
   * Writes one logged change into this node's folder, into the file this node has for the name (so a
   * node whose file is x.yaml gets YAML when the change was made to another node's x.json), or the
   * change's own file name when it has none; a deletion removes every file of the name. Returns the
   * files touched.
   */
  private async apply(folder: SyncedFolder, entry: LoggedChange): Promise<string[]> {
    const at = (file: string): string => path.join(folder.dir, file);
    if (entry.text === null) {
      const removed: string[] = [];
      for (const file of candidateFiles(entry.name)) if (await removeFile(at(file), entry.kind)) removed.push(at(file));
      return removed;
    }
    const file = folder.fileOf(entry.name) ?? (await firstExisting(folder.dir, candidateFiles(entry.name))) ?? entry.file;
    await writeAtomically(at(file), convertFor(entry.file, file, entry.text), entry.kind);
    return [at(file)];
  }

  private sayReadOnly(kind: string, dir: string, changes: number): void {
    if (this.readOnly.has(dir)) return;
    this.readOnly.add(dir);
    this.opts.log.warn(
      { kind, dir, changes },
      `the ${kind} folder ${dir} is read-only: changes made through the admin API on other nodes are not written here, its files stay the source on this node (its configuration version will differ)`,
    );
  }

  private async report(now: boolean): Promise<void> {
    if (!now && Date.now() - this.lastReport < REPORT_MS) return;
    this.lastReport = Date.now();
    const mine = this.version();
    await this.opts.store.update<Record<string, NodeConfig>, void>(NODES_KEY, (current) => {
      const fresh: Record<string, NodeConfig> = {};
      for (const [node, seen] of Object.entries(current ?? {})) if (mine.seenAt - seen.seenAt < GONE_MS) fresh[node] = seen;
      fresh[mine.node] = mine;
      return { write: fresh, ttlMs: GONE_MS * 6, result: undefined };
    });
  }
}

async function firstExisting(dir: string, files: string[]): Promise<string | undefined> {
  for (const file of files) {
    if (
      await fs.stat(path.join(dir, file)).then(
        () => true,
        () => false,
      )
    )
      return file;
  }
  return undefined;
}
