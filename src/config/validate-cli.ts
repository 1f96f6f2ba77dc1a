// `npm run validate -- <file or folder>...`: checks service files before they are dropped into
// services.d/, with the same errors the gateway would log; exits 1 if any file is refused (like nginx -t).

import fs from 'node:fs';
import path from 'node:path';
import { configName } from './config-file.ts';
import { formatProblem } from './schemas.ts';
import { loadServiceFile } from './service-file.ts';

function filesOf(target: string): string[] {
  const stat = fs.statSync(target, { throwIfNoEntry: false });
  if (!stat) throw new Error(`${target}: no such file or folder`);
  if (!stat.isDirectory()) return [target];
  return fs
    .readdirSync(target)
    .filter((f) => configName(f) !== undefined)
    .map((f) => path.join(target, f));
}

export function validate(targets: string[], out: (line: string) => void): boolean {
  let ok = true;
  for (const target of targets.length > 0 ? targets : ['services.d']) {
    let files: string[];
    try {
      files = filesOf(target);
    } catch (err) {
      out((err as Error).message);
      ok = false;
      continue;
    }
    for (const file of files) {
      const result = loadServiceFile(file, fs.readFileSync(file, 'utf8'));
      if (result.ok) {
        out(`ok      ${file}: service '${result.name}' (ttl ${result.value.ttl}s, endpoint ${result.value.endpoint})`);
      } else {
        ok = false;
        for (const p of result.problems) out(`invalid ${path.dirname(file)}/${formatProblem(p)}`);
      }
    }
  }
  return ok;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  process.exitCode = validate(process.argv.slice(2), (line) => console.log(line)) ? 0 : 1;
}
