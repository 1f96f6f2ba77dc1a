// The JSON schemas of schemas/ compiled with ajv (defaults filled in, all errors reported): at build time
// into one module of validators beside the compiled code (a built gateway then compiles nothing when it
// starts), and at first use when the gateway runs from src/ (tsx: development and the tests).

import { Ajv, type ValidateFunction } from 'ajv';
// A CommonJS module: its function is both the module and its `default`, which is how TypeScript sees it.
import standalone from 'ajv/dist/standalone/index.js';
import fs from 'node:fs';
import { GENERATED_VALIDATORS, SCHEMA_NAMES, schemaFor } from './schema-files.ts';

function schemaAjv(source: boolean): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, ...(source ? { code: { source, esm: true } } : {}) });
  // A GMS option accepted but not applied; its value is the reason, reported to the operator.
  ajv.addKeyword({ keyword: 'gmsIgnored', schemaType: 'string' });
  return ajv;
}

const ajv = schemaAjv(false);

/** The validator of `schemas/<name>.schema.json`, compiled now. */
export function compileValidator(name: string): ValidateFunction {
  return ajv.compile(schemaFor(name));
}

/** Writes the ES module whose default export maps each schema's name to its validator (the build runs it). */
export function writeValidatorsModule(): void {
  fs.writeFileSync(GENERATED_VALIDATORS, validatorsModule());
}

function validatorsModule(): string {
  const build = schemaAjv(true);
  const exports: Record<string, string> = {};
  SCHEMA_NAMES.forEach((name, i) => {
    build.addSchema(schemaFor(name), name);
    exports[`validate${i}`] = name;
  });
  const names = Object.entries(exports).map(([fn, name]) => `${JSON.stringify(name)}: ${fn}`);
  // ajv's ES module output still require()s its runtime helpers (equal, ucs2length).
  return (
    `import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n` +
    `${standalone.default(build, exports)}\nexport default { ${names.join(', ')} };\n`
  );
}
