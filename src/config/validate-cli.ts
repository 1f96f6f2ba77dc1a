// `npm run validate -- [--endpoints|--push] <file or folder>...`: checks service files (and endpoint and
// push provider files) before they are dropped in, with the same errors the gateway would log; exits 1 if any file is
// refused (like `nginx -t`). With no arguments it checks ./services.d and ./endpoints.d.

import fs from 'node:fs';
import path from 'node:path';
import { loadEndpointFile } from '../endpoints/endpoint-file.ts';
import { loadProviderFile } from '../notify/provider-file.ts';
import { configName, type LoadResult } from './config-file.ts';
import { readFolderFileSync } from './config-folder.ts';
import { formatProblem } from './schemas.ts';
import { loadServiceFile, serviceNotices, type ServiceDefinition } from './service-file.ts';

type Kind = 'service' | 'endpoint' | 'provider';

const loaders: Record<Kind, (file: string, text: string) => LoadResult<unknown>> = {
  service: loadServiceFile,
  endpoint: loadEndpointFile,
  provider: loadProviderFile,
};

function filesOf(target: string): string[] {
  const stat = fs.statSync(target, { throwIfNoEntry: false });
  if (!stat) throw new Error(`${target}: no such file or folder`);
  if (!stat.isDirectory()) return [target];
  return fs
    .readdirSync(target)
    .filter((f) => configName(f) !== undefined)
    .sort()
    .map((f) => path.join(target, f));
}

/** Files in (or named) an `endpoints.d` folder are endpoint files, in `push.d` provider files; all others are service files. */
function kindOf(target: string, forced: Kind | undefined): Kind {
  if (forced) return forced;
  const parts = path.resolve(target).split(path.sep);
  return parts.includes('endpoints.d') ? 'endpoint' : parts.includes('push.d') ? 'provider' : 'service';
}

export function validate(args: string[], out: (line: string) => void): boolean {
  const forced: Kind | undefined = args.includes('--endpoints') ? 'endpoint' : args.includes('--push') ? 'provider' : undefined;
  const targets = args.filter((a) => a !== '--endpoints' && a !== '--push');
  let ok = true;
  for (const target of targets.length > 0 ? targets : ['services.d', 'endpoints.d']) {
    const kind = kindOf(target, forced);
    let files: string[];
    try {
      files = filesOf(target);
    } catch (err) {
      out((err as Error).message);
      ok = false;
      continue;
    }
    // Two files of one name in one folder (x.json and x.yaml): the gateway would serve one and refuse the other.
    const definedBy = new Map<string, string>();
    for (const file of files) {
      // The gateway's own rules: regular files inside their folder only (a FIFO would hang the check).
      const read = readFolderFileSync(path.dirname(file), file);
      if (!read.ok) {
        ok = false;
        out(`invalid ${file}: ${read.gone ? 'no such file' : read.reason}`);
        continue;
      }
      const result = loaders[kind](file, read.text);
      const owner = result.ok ? definedBy.get(`${path.dirname(file)}/${result.name}`) : undefined;
      if (result.ok && owner) {
        ok = false;
        out(`invalid ${file}: '${result.name}' is already defined by ${path.basename(owner)}; remove one of the two files`);
      } else if (result.ok) {
        definedBy.set(`${path.dirname(file)}/${result.name}`, file);
        out(`ok      ${file}: ${kind} '${result.name}'${kind === 'service' ? summary(result.value) : ''}`);
        if (kind === 'service')
          for (const notice of serviceNotices(path.basename(file), result.value as ServiceDefinition))
            out(`ignored ${path.dirname(file)}/${notice}`);
      } else {
        ok = false;
        for (const p of result.problems) out(`invalid ${path.dirname(file)}/${formatProblem(p)}`);
      }
    }
  }
  return ok;
}

function summary(value: unknown): string {
  const { ttl, endpoint } = value as { ttl: number; endpoint: string };
  return ` (ttl ${ttl}s, endpoint ${endpoint})`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  process.exitCode = validate(process.argv.slice(2), (line) => console.log(line)) ? 0 : 1;
}
