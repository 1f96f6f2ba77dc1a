// `npm run import-gms -- <options export> [--out <folder>] [--endpoints <folder>] [--force]`: writes one
// service file per basic chat service (request-chat) of a GMS application's options export into
// services.d (or --out), and prints what it mapped, what it ignored or left out and why, and which
// sections it skipped. Exits 1 when the export cannot be read or holds no basic chat service to write.

import fs from 'node:fs';
import path from 'node:path';
import { planImport, readIni, type ImportedService, type OptionOutcome } from './gms-import.ts';

interface Args {
  exportFile?: string;
  out: string;
  endpoints: string;
  force: boolean;
}

function parseArgs(argv: string[]): Args | string {
  const args: Args = { out: 'services.d', endpoints: 'endpoints.d', force: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--force') args.force = true;
    else if (arg === '--out' || arg === '--endpoints') {
      const value = argv[++i];
      if (!value) return `${arg} needs a folder`;
      args[arg === '--out' ? 'out' : 'endpoints'] = value;
    } else if (arg.startsWith('--')) return `unknown flag ${arg}`;
    else if (args.exportFile) return 'give one options export';
    else args.exportFile = arg;
  }
  return args.exportFile
    ? args
    : 'usage: npm run import-gms -- <options export> [--out services.d] [--endpoints endpoints.d] [--force]';
}

export function importGms(argv: string[], out: (line: string) => void): boolean {
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    out(args);
    return false;
  }
  let text: string;
  try {
    text = fs.readFileSync(args.exportFile!, 'utf8');
  } catch (err) {
    out(`${args.exportFile}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    return false;
  }
  const { sections, unreadable } = readIni(text);
  for (const u of unreadable)
    out(`unread   line ${u.line}: ${JSON.stringify(u.text.trim())} is neither a [section] nor key=value`);
  const plan = planImport(sections, path.basename(args.exportFile!));
  fs.mkdirSync(args.out, { recursive: true });
  let written = 0;
  for (const service of plan.services) {
    const target = path.join(args.out, `${service.name}.json`);
    if (fs.existsSync(target) && !args.force) {
      out(`skipped  ${service.section}: ${target} exists (--force replaces it)`);
      continue;
    }
    fs.writeFileSync(target, `${JSON.stringify(service.file, null, 2)}\n`);
    written++;
    out(`wrote    ${service.section} → ${target}`);
    for (const o of service.outcomes) out(`  ${describeOutcome(o)}`);
    const note = endpointNote(service, args.endpoints);
    if (note) out(`  note     ${note}`);
  }
  for (const s of plan.skipped) out(`skipped  ${s.section}: ${s.reason}`);
  if (written === 0)
    out(plan.services.length === 0 ? 'no basic chat service (request-chat, _type=builtin) found to import' : 'nothing written');
  else out(`${written} service file(s) written to ${args.out}; check them with: npm run validate -- ${args.out}`);
  return written > 0;
}

function describeOutcome(o: OptionOutcome): string {
  const given = `${o.option}=${o.value}`;
  switch (o.kind) {
    case 'mapped':
      return `mapped   ${given} → ${o.to} ${JSON.stringify(o.result)}`;
    case 'checked':
      return `checked  ${given}`;
    case 'ignored':
      return `ignored  ${given}: ${o.reason}`;
    case 'left-out':
      return `left out ${given}: ${o.reason}`;
  }
}

/** Chats route to an endpoint file; say so when the endpoints folder does not define it yet. */
function endpointNote(service: ImportedService, endpointsDir: string): string | undefined {
  const name = service.service.endpoint;
  const defined = ['.json', '.yaml', '.yml'].some((ext) => fs.existsSync(path.join(endpointsDir, `${name}${ext}`)));
  return defined
    ? undefined
    : `chats route to endpoint '${name}', which ${endpointsDir} does not define yet: the service answers 503 until ${path.join(endpointsDir, `${name}.json`)} exists`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  process.exitCode = importGms(process.argv.slice(2), (line) => console.log(line)) ? 0 : 1;
}
