// JSON Merge Patch (RFC 7386): what PATCH of the admin API applies to a config file's content. Pure.
// Objects are built without a prototype, so a "__proto__" key stays a plain key (the schema then
// refuses it as an unknown option) and never reaches Object.prototype.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const result = Object.create(null) as Record<string, Json>;
  if (isObject(target)) for (const [k, v] of Object.entries(target)) result[k] = v;
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** The top-level options that differ between two versions of a file's content, with both values. */
export function changedOptions(
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown> | undefined,
): Array<{ option: string; before?: unknown; after?: unknown }> {
  const keys = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])].sort();
  return keys
    .filter((k) => JSON.stringify(before?.[k]) !== JSON.stringify(after?.[k]))
    .map((k) => ({
      option: k,
      ...(before && k in before ? { before: before[k] } : {}),
      ...(after && k in after ? { after: after[k] } : {}),
    }));
}
