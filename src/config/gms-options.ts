// GMS's option names in a service file, as a GMS service section writes them: the ones this gateway
// applies become its own options, the ones that only make sense inside a Genesys deployment are set
// aside with the reason they are ignored (the schema's gmsIgnored), so that they are reported.

import type { ConfigProblem } from './schemas.ts';

/** A GMS option the gateway applies: our option it sets, and how its value becomes ours. */
interface Mapped {
  ours: string;
  convert?: (value: unknown) => unknown;
}

/** GMS option name → ours. `_type` and `_service` are only checked (by the schema), never kept. */
export const GMS_MAPPED: Readonly<Record<string, Mapped>> = {
  _ttl: { ours: 'ttl' },
  _chat_endpoint: { ours: 'endpoint' },
  _chat_400_response_on_disconnected: { ours: 'disconnectedStatus', convert: (v) => (v === true ? 400 : 200) },
};

/** GMS options that name what the service is; checked against what this gateway serves, then dropped. */
export const GMS_CHECKED = ['_type', '_service'] as const;

/** The part of an option's schema that says what its value must be. */
export type OptionSchemas = Record<string, { type?: string; gmsIgnored?: string }>;

/** A GMS option accepted but not applied, as reported to the operator. */
export interface IgnoredOption {
  option: string;
  value: unknown;
  reason: string;
}

/**
 * Before validation: refuses a file that gives one option under both names, and reads values written
 * as strings, as GMS writes every option: `"3600"` for a whole number, `"true"` / `"False"` for a flag
 * (Java's reading of booleans). Only that direction: a number where text is due stays refused.
 */
export function prepareGmsOptions(
  options: Record<string, unknown>,
  label: string,
  properties: OptionSchemas,
): ConfigProblem | undefined {
  for (const [gms, { ours }] of Object.entries(GMS_MAPPED)) {
    if (Object.hasOwn(options, gms) && Object.hasOwn(options, ours)) {
      return { file: label, field: gms, reason: `is GMS's name for '${ours}'; give only one of them` };
    }
  }
  for (const [option, value] of Object.entries(options)) {
    if (typeof value !== 'string' || !Object.hasOwn(properties, option)) continue;
    const text = value.trim();
    const type = properties[option].type;
    if (type === 'integer' && /^-?\d{1,16}$/.test(text)) options[option] = Number(text);
    else if (type === 'boolean' && /^(true|false)$/i.test(text)) options[option] = text.toLowerCase() === 'true';
  }
  return undefined;
}

/**
 * After validation (values converted, defaults filled): GMS names become ours, and the options the
 * schema marks gmsIgnored are taken out and returned with their reasons.
 */
export function applyGmsNames(options: Record<string, unknown>, properties: OptionSchemas): IgnoredOption[] {
  for (const [gms, { ours, convert }] of Object.entries(GMS_MAPPED)) {
    if (!Object.hasOwn(options, gms)) continue;
    options[ours] = convert ? convert(options[gms]) : options[gms];
    delete options[gms];
  }
  for (const name of GMS_CHECKED) delete options[name];
  const ignored: IgnoredOption[] = [];
  for (const [option, value] of Object.entries(options)) {
    const reason = properties[option]?.gmsIgnored;
    if (reason === undefined) continue;
    ignored.push({ option, value, reason });
    delete options[option];
  }
  return ignored.sort((a, b) => a.option.localeCompare(b.option));
}

export function describeIgnored(file: string, o: IgnoredOption): string {
  return `${file}: ${o.option}=${JSON.stringify(o.value)} ignored: ${o.reason}`;
}
