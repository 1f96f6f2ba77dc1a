// The JSON schemas of schemas/, each compiled once with ajv (defaults filled in, all errors reported).

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type SchemaObject, type ValidateFunction } from 'ajv';

export const SCHEMAS_DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true });
// A GMS option accepted but not applied; its value is the reason, reported to the operator.
ajv.addKeyword({ keyword: 'gmsIgnored', schemaType: 'string' });
const compiled = new Map<string, ValidateFunction>();
const schemas = new Map<string, SchemaObject>();

/** `schemas/<name>.schema.json`, read once. */
export function schemaFor(name: string): SchemaObject {
  let schema = schemas.get(name);
  if (!schema) {
    schema = JSON.parse(fs.readFileSync(`${SCHEMAS_DIR}${name}.schema.json`, 'utf8')) as SchemaObject;
    schemas.set(name, schema);
  }
  return schema;
}

/** The validator for `schemas/<name>.schema.json`, compiled on first use and kept. */
export function validatorFor(name: string): ValidateFunction {
  let validate = compiled.get(name);
  if (!validate) {
    validate = ajv.compile(schemaFor(name));
    compiled.set(name, validate);
  }
  return validate;
}

/** One reason a file was refused, in an operator's words. */
export interface ConfigProblem {
  file: string;
  /** The option at fault, as a dotted path; empty for the file as a whole. */
  field: string;
  reason: string;
}

/** An option name as a reason may show it: names are words; anything else is a file's content, never shown. */
const SHOWN_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const shownName = (name: string): string => (SHOWN_NAME.test(name) ? name : '(a name that is not an option)');

export function describeErrors(file: string, errors: ErrorObject[] | null | undefined): ConfigProblem[] {
  return (errors ?? []).map((e) => {
    const path = e.instancePath
      .replace(/^\//, '')
      .split('/')
      .filter((p) => p !== '')
      .map((p) => shownName(p.replaceAll('~1', '/').replaceAll('~0', '~')))
      .join('.');
    if (e.keyword === 'additionalProperties') {
      const extra = shownName(String((e.params as { additionalProperty: string }).additionalProperty));
      return { file, field: path ? `${path}.${extra}` : extra, reason: 'unknown option (check its spelling)' };
    }
    if (e.keyword === 'required') {
      const missing = String((e.params as { missingProperty: string }).missingProperty);
      return { file, field: path ? `${path}.${missing}` : missing, reason: 'is required' };
    }
    if (e.keyword === 'enum' || e.keyword === 'const') {
      const allowed = e.params as { allowedValues?: unknown[]; allowedValue?: unknown };
      const values = allowed.allowedValues ?? [allowed.allowedValue];
      return { file, field: path, reason: `must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}` };
    }
    return { file, field: path, reason: e.message ?? 'is not valid' };
  });
}

export function formatProblem(p: ConfigProblem): string {
  return p.field ? `${p.file}: ${p.field}: ${p.reason}` : `${p.file}: ${p.reason}`;
}
