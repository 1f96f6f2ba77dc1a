// Hostile service files, property-based: random contents (broken JSON and YAML, alias bombs, deep
// nesting, prototype keys, wrong types, invalid UTF-8) and random file names never crash the loader or
// the watcher, and a bad file never replaces the good version of a service. Fixed seed, bounded counts (a tenth of them in npm test, all under npm run test:fuzz).

import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { loadServiceFile } from '../src/config/service-file.ts';
import { eventually, startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { fuzzRuns } from './helpers/fuzz-runs.ts';

const SEED = 20261125;
const OPTION_KEYS = [
  'type',
  'ttl',
  '_ttl',
  'endpoint',
  '_chat_endpoint',
  'enabled',
  'maxMessageLength',
  'disconnectedStatus',
  'maxChats',
  'description',
];

const optionValue = fc.oneof(
  fc.integer({ min: -5, max: 100_000 }),
  fc.constantFrom(
    0,
    1,
    3600,
    1e308,
    -1e308,
    2 ** 53,
    1.5,
    31536001,
    200,
    400,
    'request-chat',
    'gms_builtin',
    'a:b',
    '../../etc',
    true,
    false,
    null,
  ),
  fc.string({ maxLength: 20 }),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.constant({ nested: { __proto__: 1 } }),
);
const optionKey = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...OPTION_KEYS) },
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'TTL', 'ttl '),
  fc.string({ maxLength: 8 }),
);
const options = fc.dictionary(optionKey, optionValue, { maxKeys: 5 });

function toYaml(o: Record<string, unknown>): string {
  return Object.entries(o)
    .map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
    .join('\n');
}

/** File contents, with the extension they are written under. */
const contents: fc.Arbitrary<{ ext: '.json' | '.yaml'; text: string }> = fc.oneof(
  { weight: 4, arbitrary: options.map((o) => ({ ext: '.json' as const, text: JSON.stringify(o) })) },
  { weight: 3, arbitrary: options.map((o) => ({ ext: '.yaml' as const, text: toYaml(o) })) },
  options.map((o) => ({ ext: '.json' as const, text: JSON.stringify(o).slice(0, -1) })),
  fc.string({ maxLength: 200 }).map((text) => ({ ext: '.json' as const, text })),
  fc.string({ maxLength: 200 }).map((text) => ({ ext: '.yaml' as const, text })),
  fc.uint8Array({ maxLength: 200 }).map((b) => ({ ext: '.yaml' as const, text: Buffer.from(b).toString('latin1') })),
  fc.constantFrom(
    { ext: '.json' as const, text: '{"ttl": 60, "__proto__": {"enabled": false}}' },
    { ext: '.json' as const, text: '{"constructor": {"prototype": {"polluted": true}}}' },
    { ext: '.json' as const, text: `${'['.repeat(100_000)}${']'.repeat(100_000)}` },
    {
      ext: '.yaml' as const,
      text: `a: &a ["x","x","x","x","x","x","x","x","x"]\n${Array.from(
        { length: 12 },
        (_, i) =>
          `l${i + 1}: &l${i + 1} [${Array(9)
            .fill(i === 0 ? '*a' : `*l${i}`)
            .join(',')}]`,
      ).join('\n')}\n`,
    },
    { ext: '.yaml' as const, text: `${'- '.repeat(5000)}x` },
    { ext: '.yaml' as const, text: '!!js/function "function () { process.exit(1) }"' },
    { ext: '.yaml' as const, text: 'ttl: !!binary aGVsbG8=' },
    { ext: '.yaml' as const, text: '---\nttl: 60\n---\nttl: 61\n' },
    { ext: '.json' as const, text: '\uFEFF{"ttl": 60}' },
    { ext: '.json' as const, text: '' },
    { ext: '.json' as const, text: 'null' },
    { ext: '.json' as const, text: '[{"ttl": 60}]' },
    { ext: '.json' as const, text: '{"ttl": 60, "ttl": "x"}' },
    { ext: '.json' as const, text: '{"ttl": 1e400}' },
  ),
);

describe('hostile service files (property-based, fixed seed)', function () {
  this.timeout(120_000);

  it('the loader never throws, and what it accepts satisfies the schema', () => {
    fc.assert(
      fc.property(
        contents,
        fc.constantFrom('good', 'a.b-c_d', '__proto__', 'constructor', 'x'.repeat(64)),
        ({ ext, text }, name) => {
          const result = loadServiceFile(`/services.d/${name}${ext}`, text);
          if (!result.ok) {
            expect(result.problems.length).to.be.above(0);
            return;
          }
          const s = result.value;
          expect(s.name).to.equal(name);
          expect(Number.isInteger(s.ttl) && s.ttl >= 1 && s.ttl <= 31536000, `ttl ${s.ttl}`).to.equal(true);
          expect(Number.isInteger(s.maxMessageLength) && s.maxMessageLength >= 1).to.equal(true);
          expect([200, 400]).to.include(s.disconnectedStatus);
          expect(s.enabled).to.be.a('boolean');
          expect(s.endpoint).to.match(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}(:[A-Za-z0-9_][A-Za-z0-9._-]{0,63})?$/);
          expect(Object.getPrototypeOf(s)).to.equal(Object.prototype);
        },
      ),
      { seed: SEED, numRuns: fuzzRuns(3000) },
    );
    expect(Object.prototype).to.not.have.property('polluted');
  });

  describe('the watcher', () => {
    let gw: TestGateway;
    before(async () => {
      gw = await startTestGateway({ services: { 'good.json': { ttl: 120 } } });
    });
    after(() => gw.close());

    /** How many service file changes the watcher has applied, from /metrics. */
    const applied = async (): Promise<number> => {
      const text = (await gw.get('/metrics')).body as string;
      return text
        .split('\n')
        .filter((l) => l.startsWith('gms_config_changes_total{kind="service"'))
        .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    };
    const served = async (): Promise<unknown> => {
      const reply = await gw.post('/genesys/1/service/good', { _gateway_extras: 'true' });
      return reply.status === 200 ? reply.body._ttl : reply.body.exception;
    };

    it('random rewrites of a good file never crash it, and only a valid file replaces the good version', async () => {
      let expectedTtl = 120;
      let present = true;
      let writes = 0;
      const runs = fuzzRuns(30);
      await fc.assert(
        fc.asyncProperty(contents, async ({ ext, text }) => {
          // Written under one extension at a time, so that one file always defines "good".
          const file = path.join(gw.servicesDir, `good${ext}`);
          const other = path.join(gw.servicesDir, `good${ext === '.json' ? '.yaml' : '.json'}`);
          const before = await applied();
          const changes =
            (await fs.rm(other).then(
              () => 1,
              () => 0,
            )) + 1;
          await fs.writeFile(file, text);
          writes++;
          const result = loadServiceFile(file, text);
          if (result.ok) [expectedTtl, present] = [result.value.ttl, true];
          // The other file was deleted, and so was the service; a bad new file does not bring it back.
          else if (changes === 2) present = false;
          await gw.settled();
          await eventually(async () => (await applied()) >= before + changes, 5000, 'the watcher to apply the write');
          await gw.settled();
          expect(await served()).to.equal(present ? expectedTtl : 'ServiceNotFound');
        }),
        { seed: SEED, numRuns: runs },
      );
      expect(writes).to.equal(runs);
      expect((await gw.get('/healthz')).status).to.equal(200);
    });

    it('a bad file never takes the place of a good one while it stays', async () => {
      await fs.rm(path.join(gw.servicesDir, 'good.yaml'), { force: true });
      await gw.writeService('good.json', { ttl: 300 });
      await eventually(async () => (await served()) === 300, 3000, 'the good version');
      await fc.assert(
        fc.asyncProperty(
          contents.filter(({ ext, text }) => !loadServiceFile(`good${ext}`, text).ok && ext === '.json'),
          async ({ text }) => {
            const before = await applied();
            await gw.writeService('good.json', text);
            await eventually(async () => (await applied()) > before, 5000, 'the watcher to apply the write');
            await gw.settled();
            expect(await served()).to.equal(300);
            await gw.writeService('good.json', { ttl: 300 });
            await eventually(() => gw.services.rejected().length === 0, 3000, 'the good version back');
          },
        ),
        { seed: SEED, numRuns: fuzzRuns(15) },
      );
    });

    it('files with hostile names are ignored or refused, never served under another name', async () => {
      const names = [
        '..json',
        '...json',
        '.hidden.json',
        'a b.json',
        'é.json',
        '__proto__.json',
        'constructor.yaml',
        `${'x'.repeat(65)}.json`,
        'CON.json',
        '-dash.json',
        'x~',
        'x.json.swp',
        'x.JSON',
      ];
      for (const name of names) await fs.writeFile(path.join(gw.servicesDir, name), '{"ttl": 60}');
      const loadedNames = (): string[] => gw.services.list().map((e) => e.name);
      // Refused: 'a b', 'é', '__proto__', 65 x's, '-dash'. Ignored: dotfiles, backups, swap files.
      await eventually(
        () => gw.services.rejected().length === 5 && ['CON', 'x', 'constructor'].every((n) => loadedNames().includes(n)),
        3000,
        'every file applied',
      );
      await gw.settled();
      const loaded = loadedNames();
      for (const name of loaded) expect(name).to.match(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);
      expect(loaded.sort()).to.deep.equal(['CON', 'constructor', 'good', 'x']);
      expect(loaded).to.not.include('__proto__');
      expect((await gw.post('/genesys/1/service/__proto__')).body.exception).to.equal('ServiceNotFound');
      expect((await gw.post('/genesys/1/service/..')).status).to.equal(404);
      expect((await gw.get('/healthz')).status).to.equal(200);
    });
  });
});
