import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/g), ...text.matchAll(/import\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]!);
}

/** The module (first folder under src/, or the file) a source file belongs to. */
function moduleOf(file: string): string {
  const rel = relative(SRC, file);
  if (rel.includes('/')) return rel.split('/')[0]!;
  const name = rel.replace(/\.ts$/, '');
  // index.ts, nn.ts, node.ts, report.ts: the package's entry points, which re-export anything.
  return ENTRY_POINTS.includes(name) ? 'entry' : name;
}

const ENTRY_POINTS = ['index', 'nn', 'node', 'report'];

/** docs/architecture.md: which modules each module may import. Arrows point one way. */
const ALLOWED: Record<string, string[]> = {
  errors: [],
  version: [],
  util: ['errors'],
  physics: [],
  sample: ['physics', 'util', 'errors'],
  io: ['util', 'errors'],
  data: ['physics', 'sample', 'io', 'util', 'errors'],
  preprocess: ['data', 'sample', 'util', 'errors'],
  nn: ['sample', 'io', 'preprocess', 'util', 'errors', 'version'],
  eval: ['nn', 'physics', 'preprocess', 'data', 'io', 'util', 'errors'],
  // store/: history stores (io for atomic files) and the Hub (nn to export a bundle's weights as .pth).
  store: ['nn', 'io', 'preprocess', 'util', 'errors', 'version'],
  // pipeline/ composes every stage, report included (it writes the run's report).
  pipeline: ['data', 'io', 'physics', 'sample', 'preprocess', 'nn', 'eval', 'store', 'report', 'util', 'errors', 'version'],
  cli: ['data', 'io', 'physics', 'sample', 'preprocess', 'nn', 'eval', 'report', 'store', 'pipeline', 'util', 'errors', 'version'],
  // report/ uses only the result type of eval/ (type imports); its Node file writes through io/'s atomic files.
  report: ['eval', 'io', 'util', 'errors'],
  entry: ['*'],
};

const NODE_ONLY_PACKAGES = ['piscina', 'commander', 'cli-progress', '@resvg/resvg-js', 'mongodb'];
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

describe('architecture', () => {
  const all = files(SRC);

  it('keeps Node built-ins and Node-only packages out of the core (only *.node.ts, node.ts and cli/ use them)', () => {
    const offenders = all
      .filter((f) => !f.endsWith('.node.ts') && moduleOf(f) !== 'cli' && moduleOf(f) !== 'node')
      .flatMap((f) => imports(f).filter((i) => builtins.has(i) || NODE_ONLY_PACKAGES.includes(i)).map((i) => `${relative(SRC, f)} → ${i}`));
    expect(offenders).toEqual([]);
  });

  it('keeps imports one-way, as docs/architecture.md draws them', () => {
    const offenders: string[] = [];
    for (const file of all) {
      const from = moduleOf(file);
      const allowed = ALLOWED[from];
      expect(allowed, `module ${from} is not in the table`).toBeDefined();
      for (const spec of imports(file).filter((i) => i.startsWith('.'))) {
        const target = moduleOf(join(file, '..', spec.replace(/\.js$/, '.ts')));
        if (target !== from && !allowed!.includes('*') && !allowed!.includes(target)) offenders.push(`${relative(SRC, file)} → ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('documents every module in docs/architecture.md', () => {
    const doc = readFileSync(join(SRC, '..', 'docs', 'architecture.md'), 'utf8');
    for (const file of all) {
      const rel = relative(SRC, file);
      expect(doc).toContain(rel.includes('/') ? `${rel.split('/')[0]}/` : rel);
    }
  });
});
