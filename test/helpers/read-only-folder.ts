// Makes a folder read-only the way a deployment does: a read-only bind mount (what a Kubernetes ConfigMap
// volume is) when the tests run as root, where permissions alone would not stop a write; its mode
// otherwise. Answers how to undo it, or undefined when neither is possible here.

import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ReadOnly {
  /** `EROFS` (a read-only mount) or `EACCES` (the folder's mode). */
  code: 'EROFS' | 'EACCES';
  undo(): Promise<void>;
}

export async function makeReadOnly(dir: string): Promise<ReadOnly | undefined> {
  if (process.getuid?.() !== 0) {
    await fs.chmod(dir, 0o555);
    return { code: 'EACCES', undo: () => fs.chmod(dir, 0o755) };
  }
  try {
    await run('mount', ['--bind', dir, dir]);
  } catch {
    return undefined;
  }
  try {
    await run('mount', ['-o', 'remount,ro,bind', dir]);
  } catch {
    await run('umount', [dir]);
    return undefined;
  }
  // Lazy: a watcher of a gateway still closing must not keep the mount in place.
  return { code: 'EROFS', undo: async () => void (await run('umount', ['-l', dir])) };
}

/** Skips the test, saying why, where no folder can be made read-only (root without mount rights). */
export function skipWithoutReadOnly(ctx: Mocha.Context, readOnly: ReadOnly | undefined): asserts readOnly is ReadOnly {
  if (readOnly) return;
  console.warn('      skipped: running as root without the right to mount, no folder can be made read-only here');
  ctx.skip();
}
