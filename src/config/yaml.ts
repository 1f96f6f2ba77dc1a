// The YAML parser, loaded the first time a YAML file is read or written: a gateway whose files are all
// JSON does not pay for loading it at start.

import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

let yaml: typeof Yaml | undefined;

export function loadYaml(): typeof Yaml {
  yaml ??= createRequire(import.meta.url)('yaml') as typeof Yaml;
  return yaml;
}
