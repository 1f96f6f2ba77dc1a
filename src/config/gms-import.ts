// An export of a GMS application's options (INI: `[section]` headers, `key=value` lines) → one service
// file per basic chat service it holds, and for everything else the reason it is not imported.
// Pure: text in, plan out; import-gms-cli.ts reads and writes the files.

import { NAME_PATTERN } from './config-file.ts';
import { GMS_CHECKED, GMS_MAPPED, type IgnoredOption, type OptionSchemas } from './gms-options.ts';
import { formatProblem, schemaFor } from './schemas.ts';
import { loadServiceFile, type ServiceDefinition } from './service-file.ts';

export interface IniSection {
  name: string;
  /** The line of its header, 1-based. */
  line: number;
  options: Record<string, string>;
}

export interface IniReading {
  sections: IniSection[];
  /** Lines that are neither a header, an option, a comment nor blank. */
  unreadable: Array<{ line: number; text: string }>;
}

/** Reads the INI text GMS's configuration tools export: `;` and `#` comments, later keys win. */
export function readIni(text: string): IniReading {
  const sections: IniSection[] = [];
  const unreadable: IniReading['unreadable'] = [];
  let current: IniSection | undefined;
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith(';') || line.startsWith('#')) return;
      const header = /^\[(.+)\]$/.exec(line);
      if (header) {
        current = { name: header[1].trim(), line: i + 1, options: Object.create(null) as Record<string, string> };
        sections.push(current);
        return;
      }
      const eq = line.indexOf('=');
      if (!current || eq <= 0) {
        unreadable.push({ line: i + 1, text: raw });
        return;
      }
      current.options[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    });
  return { sections, unreadable };
}

/** One option of an imported section and what became of it. */
export type OptionOutcome =
  | { kind: 'mapped'; option: string; value: string; to: string; result: unknown }
  | { kind: 'checked'; option: string; value: string }
  | { kind: 'ignored'; option: string; value: string; reason: string }
  | { kind: 'left-out'; option: string; value: string; reason: string };

export interface ImportedService {
  section: string;
  name: string;
  /** The service file's content, in this gateway's option names. */
  file: Record<string, unknown>;
  service: ServiceDefinition;
  outcomes: OptionOutcome[];
}

export interface ImportPlan {
  services: ImportedService[];
  /** Sections not imported, with the reason. */
  skipped: Array<{ section: string; reason: string }>;
}

const SERVICE_PREFIX = 'service.';

/** What an export holds: the basic chat services to write, and why every other section is not. */
export function planImport(sections: IniSection[], source: string): ImportPlan {
  const properties = schemaFor('request-chat').properties as OptionSchemas;
  const plan: ImportPlan = { services: [], skipped: [] };
  for (const section of sections) {
    const label = `[${section.name}]`;
    if (!section.name.startsWith(SERVICE_PREFIX)) {
      plan.skipped.push({ section: label, reason: 'not a service section (application-wide GMS options)' });
      continue;
    }
    const name = section.name.slice(SERVICE_PREFIX.length);
    const { _service: kind, _type: type } = section.options;
    if (kind !== 'request-chat') {
      plan.skipped.push({
        section: label,
        reason: kind
          ? `a GMS ${kind} service (_service=${kind}), not a basic chat service`
          : 'no _service option: not a service this gateway can tell',
      });
      continue;
    }
    if (type !== 'builtin') {
      plan.skipped.push({
        section: label,
        reason: `_type=${type ?? '(none)'}: only the built-in request-chat (_type=builtin) is a basic chat service; ORS-based chat runs a strategy this gateway does not have`,
      });
      continue;
    }
    if (!NAME_PATTERN.test(name)) {
      plan.skipped.push({
        section: label,
        reason: `'${name}' cannot be a service name here (it must match ${NAME_PATTERN.source})`,
      });
      continue;
    }
    const imported = importService(section, name, properties, source);
    if ('problems' in imported) plan.skipped.push({ section: label, reason: `refused: ${imported.problems.join('; ')}` });
    else plan.services.push(imported);
  }
  return plan;
}

function importService(
  section: IniSection,
  name: string,
  properties: OptionSchemas,
  source: string,
): ImportedService | { problems: string[] } {
  const known: Record<string, string> = {};
  const leftOut: OptionOutcome[] = [];
  for (const [option, value] of Object.entries(section.options)) {
    if (Object.hasOwn(properties, option)) known[option] = value;
    else
      leftOut.push({
        kind: 'left-out',
        option,
        value,
        reason:
          'not an option of a GMS request-chat service this gateway knows (check it: a typo, or an option to add to the schema)',
      });
  }
  const loaded = loadServiceFile(`${name}.json`, JSON.stringify(known));
  if (!loaded.ok) return { problems: loaded.problems.map(formatProblem) };
  const service = loaded.value;
  const ignored = new Map((service.ignored ?? []).map((o: IgnoredOption) => [o.option, o]));
  const outcomes: OptionOutcome[] = [];
  for (const [option, value] of Object.entries(known)) {
    const mapped = GMS_MAPPED[option];
    const ignoredOne = ignored.get(option);
    if (mapped) outcomes.push({ kind: 'mapped', option, value, to: mapped.ours, result: written(service, mapped.ours) });
    else if ((GMS_CHECKED as readonly string[]).includes(option)) outcomes.push({ kind: 'checked', option, value });
    else if (ignoredOne) outcomes.push({ kind: 'ignored', option, value, reason: ignoredOne.reason });
    else outcomes.push({ kind: 'mapped', option, value, to: option, result: written(service, option) });
  }
  const file: Record<string, unknown> = {
    type: 'request-chat',
    description: describeImport(section.name, source, outcomes),
    ttl: service.ttl,
    endpoint: written(service, 'endpoint'),
    disconnectedStatus: service.disconnectedStatus,
  };
  for (const o of outcomes) if (o.kind === 'mapped' && !(o.to in file)) file[o.to] = o.result;
  return { section: `[${section.name}]`, name, file, service, outcomes: [...outcomes, ...leftOut] };
}

/** Where the file came from, and which GMS options of it are not applied here. */
function describeImport(section: string, source: string, outcomes: OptionOutcome[]): string {
  const ignored = outcomes.filter((o) => o.kind === 'ignored').map((o) => o.option);
  const text = `Imported from [${section}] of ${source}.${ignored.length > 0 ? ` GMS options not applied here: ${ignored.join(', ')}.` : ''}`;
  return text.length <= 1000 ? text : `${text.slice(0, 997)}...`;
}

/** An option's value as the service file writes it; the endpoint keeps GMS's tenant. */
function written(service: ServiceDefinition, option: string): unknown {
  if (option === 'endpoint') return service.tenant ? `${service.tenant}:${service.endpoint}` : service.endpoint;
  return (service as unknown as Record<string, unknown>)[option];
}
