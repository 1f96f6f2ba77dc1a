// The JSON schemas of schemas/, each read once: what config files are validated against (schemas.ts)
// and what the OpenAPI document and the GMS option names are taken from.

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SchemaObject } from 'ajv';

export const SCHEMAS_DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));
/** Every schema of schemas/, by name (`<name>.schema.json`). */
export const SCHEMA_NAMES = fs
  .readdirSync(SCHEMAS_DIR)
  .filter((file) => file.endsWith('.schema.json'))
  .map((file) => file.slice(0, -'.schema.json'.length));

/** Where the build writes the validators it generates from them (schema-compiler.ts), beside the compiled code. */
export const GENERATED_VALIDATORS = fileURLToPath(new URL('./schema-validators.js', import.meta.url));

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
