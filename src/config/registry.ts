// The live set of loaded configuration entries of one kind (services, endpoints): an immutable
// snapshot swapped in one assignment, the last good version per name, and the files refused now.

import type { ConfigProblem } from './schemas.ts';

export interface Entry<T> {
  name: string;
  file: string;
  value: T;
  loadedAt: string;
}

export interface Rejection {
  file: string;
  name?: string;
  problems: ConfigProblem[];
  rejectedAt: string;
  /** True while an earlier valid version of the same name keeps serving. */
  lastGoodServing: boolean;
}

export class Registry<T> {
  private entries: ReadonlyMap<string, Entry<T>> = new Map();
  private rejections: ReadonlyMap<string, Rejection> = new Map();

  get(name: string): T | undefined {
    return this.entries.get(name)?.value;
  }

  /** How many entries are loaded (without listing them). */
  get size(): number {
    return this.entries.size;
  }

  list(): Entry<T>[] {
    return [...this.entries.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  rejected(): Rejection[] {
    return [...this.rejections.values()].sort((a, b) => a.file.localeCompare(b.file));
  }

  /** A valid file: it now defines `name`, unless another file already does. */
  accept(file: string, name: string, value: T): { ok: true } | { ok: false; problem: string } {
    const owner = this.entries.get(name);
    if (owner && owner.file !== file) {
      const problem = `'${name}' is already defined by ${owner.file}; remove one of the two files`;
      this.reject(file, name, [{ file, field: '', reason: problem }]);
      return { ok: false, problem };
    }
    const next = new Map(this.entries);
    // A file renamed inside the folder keeps nothing of its old name.
    for (const [n, e] of next) if (e.file === file && n !== name) next.delete(n);
    next.set(name, { name, file, value, loadedAt: new Date().toISOString() });
    this.entries = next;
    this.clearRejection(file);
    return { ok: true };
  }

  /** An invalid file: recorded, while whatever it defined before keeps serving. */
  reject(file: string, name: string | undefined, problems: ConfigProblem[]): Rejection {
    const rejection: Rejection = {
      file,
      ...(name ? { name } : {}),
      problems,
      rejectedAt: new Date().toISOString(),
      lastGoodServing: [...this.entries.values()].some((e) => e.file === file),
    };
    const next = new Map(this.rejections);
    next.set(file, rejection);
    this.rejections = next;
    return rejection;
  }

  /** The file is gone: so is what it defined. Returns the names removed. */
  remove(file: string): string[] {
    const removed = [...this.entries.values()].filter((e) => e.file === file).map((e) => e.name);
    if (removed.length > 0) {
      const next = new Map(this.entries);
      for (const name of removed) next.delete(name);
      this.entries = next;
    }
    this.clearRejection(file);
    return removed;
  }

  private clearRejection(file: string): void {
    if (!this.rejections.has(file)) return;
    const next = new Map(this.rejections);
    next.delete(file);
    this.rejections = next;
  }
}
