// `npm run build`: compiles src/ to dist/ with tsc (source maps; a type error stops the build), copies
// src/'s other files (the web pages, the checkpoint worker's plain module) beside the compiled
// modules, and generates the validators of schemas/ (config/schema-compiler.ts). With `--if-stale` (what
// `npm start` and the command-line tools run first) it builds only when dist/ is missing or older than a
// source file, so `npm install && npm start` works on a fresh checkout and after every edit or pull.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(ROOT, 'src');
const DIST = path.join(ROOT, 'dist');
/** Written last by a complete build; its age is the build's. */
const STAMP = path.join(DIST, '.built');
/** Besides src/, the files whose change changes the build (the schemas are compiled into it). */
const INPUTS = ['schemas', 'tsconfig.json', 'tsconfig.build.json', 'package.json'].map((f) => path.join(ROOT, f));

function newestInput() {
  let newest = 0;
  const visit = (file) => {
    const stat = fs.statSync(file);
    if (stat.isDirectory()) for (const entry of fs.readdirSync(file)) visit(path.join(file, entry));
    else newest = Math.max(newest, stat.mtimeMs);
  };
  for (const input of [SRC, ...INPUTS]) visit(input);
  return newest;
}

function builtAt() {
  try {
    return fs.statSync(STAMP).mtimeMs;
  } catch {
    return undefined;
  }
}

function copyAssets(from, to) {
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) copyAssets(source, target);
    else if (!entry.name.endsWith('.ts')) {
      fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(source, target);
    }
  }
}

async function build() {
  let tsc;
  try {
    tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    console.error(
      'dist/ is missing or older than src/, and TypeScript is not installed to build it: run `npm install`, then `npm run build`',
    );
    process.exit(1);
  }
  fs.rmSync(DIST, { recursive: true, force: true });
  // tsc reports on stdout; sent to stderr so that a tool's own output (`npm run validate`) stays clean.
  const run = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')], { stdio: ['ignore', 2, 2] });
  if (run.status !== 0) {
    console.error('build failed: dist/ not written (see the errors above)');
    process.exit(1);
  }
  copyAssets(SRC, DIST);
  // The schemas' validators, generated once here instead of compiled at every start (config/schemas.ts).
  const compiler = await import(pathToFileURL(path.join(DIST, 'config', 'schema-compiler.js')).href);
  compiler.writeValidatorsModule();
  fs.writeFileSync(STAMP, `${new Date().toISOString()}\n`);
}

if (process.argv.includes('--if-stale')) {
  const built = builtAt();
  if (built === undefined || newestInput() > built) {
    console.error(built === undefined ? 'building dist/ (first run)' : 'building dist/ (src/ changed since the last build)');
    await build();
  }
} else {
  await build();
}
