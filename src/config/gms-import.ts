// An export of a GMS application's options (INI: `[section]` headers, `key=value` lines) → one service
// file per basic chat service it holds, and for everything else the reason it is not imported.
// Pure: text in, plan out; import-gms-cli.ts reads and writes the files.

import { NAME_PATTERN } from './config-file.ts';
import { GMS_CHECKED, GMS_MAPPED, type IgnoredOption, type OptionSchemas } from './gms-options.ts';
import { schemaFor } from './schema-files.ts';
import { formatProblem } from './schemas.ts';
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
/** GMS's Chat API Version 2 services: `[chat.<name>]`, and `[chat]` answering every other name. */
const V2_PREFIX = 'chat.';
/** Chat Server's file allowances (its client-file-transfer section), which GMS passes to v2 clients. */
const FILE_TRANSFER_SECTION = 'client-file-transfer';

/** Chat Server's client-file-transfer option → fileTransfer's, and how its text becomes the value. */
const FILE_OPTIONS: Readonly<Record<string, { ours: string; read: (text: string) => unknown }>> = {
  'upload-max-file-size': { ours: 'maxFileSize', read: wholeNumber },
  'upload-max-files': { ours: 'maxFiles', read: wholeNumber },
  'upload-max-total-size': { ours: 'maxTotalSize', read: wholeNumber },
  'upload-file-types': {
    ours: 'fileTypes',
    read: (text) =>
      text
        .split(/[:,;\s]+/)
        .map((t) => t.trim().toLowerCase().replace(/^\./, ''))
        .filter((t) => t !== ''),
  },
  'upload-need-agent': {
    ours: 'needAgent',
    read: (text) => (/^(true|false)$/i.test(text) ? text.toLowerCase() === 'true' : text),
  },
};

/** What the Chat API v2 sections of an export say of one service name. */
interface V2Part {
  /** The `[chat.<name>]` section, when the export has one. */
  section?: IniSection;
  chatApiVersions: (1 | 2)[];
  /** Options of the service file (endpoint, fileTransfer), in this gateway's names. */
  options: Record<string, unknown>;
  outcomes: OptionOutcome[];
}

/** What an export holds: the basic chat services to write, and why every other section is not. */
export function planImport(sections: IniSection[], source: string): ImportPlan {
  const properties = schemaFor('request-chat').properties as OptionSchemas;
  const plan: ImportPlan = { services: [], skipped: [] };
  const v2Sections = new Map(
    sections.filter((s) => s.name.startsWith(V2_PREFIX)).map((s) => [s.name.slice(V2_PREFIX.length), s]),
  );
  const catchAll = sections.find((s) => s.name === 'chat');
  const fileDefaults = sections.find((s) => s.name === FILE_TRANSFER_SECTION);
  const v2For = (name: string, v1: boolean): V2Part => v2Part(name, v2Sections.get(name), { v1, catchAll, fileDefaults });
  const imported = new Set<string>();
  for (const section of sections) {
    const label = `[${section.name}]`;
    if (section.name.startsWith(V2_PREFIX)) continue;
    if (section.name === FILE_TRANSFER_SECTION) {
      plan.skipped.push({
        section: label,
        reason: "Chat Server's file allowances: applied to the Chat API v2 services imported (fileTransfer)",
      });
      continue;
    }
    if (section.name === 'chat') {
      plan.skipped.push({
        section: label,
        reason:
          'application-wide chat options; as the Chat API v2 catch-all it makes the basic chat services imported answer v2 too',
      });
      continue;
    }
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
    const service = importService(section, name, properties, source, v2For(name, true));
    if ('problems' in service) plan.skipped.push({ section: label, reason: `refused: ${service.problems.join('; ')}` });
    else {
      plan.services.push(service);
      imported.add(name);
    }
  }
  // A [chat.<name>] without a basic chat service of that name is a service that answers Chat API v2 only.
  for (const [name, section] of v2Sections) {
    if (imported.has(name)) continue;
    const label = `[${section.name}]`;
    if (!NAME_PATTERN.test(name)) {
      plan.skipped.push({
        section: label,
        reason: `'${name}' cannot be a service name here (it must match ${NAME_PATTERN.source})`,
      });
      continue;
    }
    const service = importService(undefined, name, properties, source, v2For(name, false));
    if ('problems' in service) plan.skipped.push({ section: label, reason: `refused: ${service.problems.join('; ')}` });
    else plan.services.push(service);
  }
  return plan;
}

/**
 * The Chat API v2 side of a service: GMS answers /genesys/2/chat/<name> with [chat.<name>], else with the
 * catch-all [chat]. Its `endpoint` routes a v2-only service (else [chat]'s default_chat_endpoint); Chat
 * Server's client-file-transfer options, in [client-file-transfer] or in [chat.<name>] itself, become
 * fileTransfer.
 */
function v2Part(
  name: string,
  section: IniSection | undefined,
  context: { v1: boolean; catchAll?: IniSection; fileDefaults?: IniSection },
): V2Part {
  const outcomes: OptionOutcome[] = [];
  const options: Record<string, unknown> = {};
  const answersV2 = section !== undefined || context.catchAll !== undefined;
  const chatApiVersions: (1 | 2)[] = context.v1 ? (answersV2 ? [1, 2] : [1]) : [2];
  if (!section && !answersV2) {
    const reason = `no [chat.${name}] nor [chat] section: GMS would not answer Chat API v2 for it`;
    outcomes.push({ kind: 'mapped', option: 'Chat API v2', value: reason, to: 'chatApiVersions', result: chatApiVersions });
    return { chatApiVersions, options, outcomes };
  }
  const label = (s: IniSection, option: string): string => `[${s.name}] ${option}`;

  const file: Record<string, unknown> = {};
  const readFileOptions = (s: IniSection, given: Record<string, string>): void => {
    for (const [option, value] of Object.entries(given)) {
      const known = FILE_OPTIONS[option];
      if (!known) continue;
      file[known.ours] = known.read(value);
      outcomes.push({
        kind: 'mapped',
        option: label(s, option),
        value,
        to: `fileTransfer.${known.ours}`,
        result: file[known.ours],
      });
    }
  };
  if (section && context.fileDefaults) readFileOptions(context.fileDefaults, context.fileDefaults.options);
  if (section) readFileOptions(section, section.options);
  if (Object.keys(file).length > 0) options.fileTransfer = { enabled: file.maxFiles !== 0, ...file };

  if (section) {
    for (const [option, value] of Object.entries(section.options)) {
      if (FILE_OPTIONS[option]) continue;
      if (option === 'endpoint' && !context.v1) {
        options.endpoint = value;
        outcomes.push({ kind: 'mapped', option: label(section, option), value, to: 'endpoint', result: value });
      } else if (option === 'endpoint') {
        outcomes.push({
          kind: 'left-out',
          option: label(section, option),
          value,
          reason: `the service is routed by [service.${name}]'s _chat_endpoint for both APIs (one service, one endpoint here)`,
        });
      } else {
        outcomes.push({
          kind: 'left-out',
          option: label(section, option),
          value,
          reason: 'not an option of a GMS Chat API v2 section this gateway knows (check it: a typo, or an option to add)',
        });
      }
    }
  }
  if (!context.v1 && options.endpoint === undefined && context.catchAll?.options.default_chat_endpoint) {
    const value = context.catchAll.options.default_chat_endpoint;
    options.endpoint = value;
    outcomes.push({
      kind: 'mapped',
      option: label(context.catchAll, 'default_chat_endpoint'),
      value,
      to: 'endpoint',
      result: value,
    });
  }
  const why = section ? `answered by [${section.name}]` : 'answered by [chat], for every service name';
  outcomes.push({
    kind: 'mapped',
    option: 'Chat API v2',
    value: why,
    to: 'chatApiVersions',
    result: chatApiVersions,
  });
  return { section, chatApiVersions, options, outcomes };
}

function wholeNumber(text: string): unknown {
  return /^\d{1,15}$/.test(text) ? Number(text) : text;
}

function importService(
  section: IniSection | undefined,
  name: string,
  properties: OptionSchemas,
  source: string,
  v2: V2Part,
): ImportedService | { problems: string[] } {
  const known: Record<string, unknown> = {};
  const leftOut: OptionOutcome[] = [];
  for (const [option, value] of Object.entries(section?.options ?? {})) {
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
  const loaded = loadServiceFile(
    `${name}.json`,
    JSON.stringify({ ...known, ...v2.options, chatApiVersions: v2.chatApiVersions }),
  );
  if (!loaded.ok) return { problems: loaded.problems.map(formatProblem) };
  const service = loaded.value;
  const ignored = new Map((service.ignored ?? []).map((o: IgnoredOption) => [o.option, o]));
  const outcomes: OptionOutcome[] = [];
  for (const [option, text] of Object.entries(known)) {
    const value = String(text);
    const mapped = GMS_MAPPED[option];
    const ignoredOne = ignored.get(option);
    if (mapped) outcomes.push({ kind: 'mapped', option, value, to: mapped.ours, result: written(service, mapped.ours) });
    else if ((GMS_CHECKED as readonly string[]).includes(option)) outcomes.push({ kind: 'checked', option, value });
    else if (ignoredOne) outcomes.push({ kind: 'ignored', option, value, reason: ignoredOne.reason });
    else outcomes.push({ kind: 'mapped', option, value, to: option, result: written(service, option) });
  }
  const sectionNames = [section, v2.section].flatMap((s) => (s ? [`[${s.name}]`] : []));
  const file: Record<string, unknown> = {
    type: 'request-chat',
    description: describeImport(sectionNames.join(' and '), source, outcomes),
    ttl: service.ttl,
    endpoint: written(service, 'endpoint'),
    disconnectedStatus: service.disconnectedStatus,
    chatApiVersions: service.chatApiVersions,
    ...(v2.options.fileTransfer ? { fileTransfer: service.fileTransfer } : {}),
  };
  for (const o of outcomes) if (o.kind === 'mapped' && !(o.to in file)) file[o.to] = o.result;
  return { section: sectionNames.join(' and '), name, file, service, outcomes: [...outcomes, ...v2.outcomes, ...leftOut] };
}

/** Where the file came from, and which GMS options of it are not applied here. */
function describeImport(sections: string, source: string, outcomes: OptionOutcome[]): string {
  const ignored = outcomes.filter((o) => o.kind === 'ignored').map((o) => o.option);
  const text = `Imported from ${sections} of ${source}.${ignored.length > 0 ? ` GMS options not applied here: ${ignored.join(', ')}.` : ''}`;
  return text.length <= 1000 ? text : `${text.slice(0, 997)}...`;
}

/** An option's value as the service file writes it; the endpoint keeps GMS's tenant. */
function written(service: ServiceDefinition, option: string): unknown {
  if (option === 'endpoint') return service.tenant ? `${service.tenant}:${service.endpoint}` : service.endpoint;
  return (service as unknown as Record<string, unknown>)[option];
}
