/**
 * The API reference (`npm run docs`): typedoc builds it from the four entry points with the project's
 * `typedoc.json` (validation of undocumented exports, unexported referenced types and broken links on),
 * and every warning it gives is either none or one of the pending ones listed below.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const TYPEDOC = join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc');

/**
 * Warnings still allowed while the files they come from are being documented elsewhere. Remove an entry
 * once its warnings are gone; when the list is empty, set `"treatWarningsAsErrors": true` in typedoc.json.
 */
const PENDING: readonly RegExp[] = [];

interface Build {
  code: number | null;
  output: string;
}

let out: string;
let build: Build;

/** Runs typedoc with the project's config into `dir`, without the test runner's IPC channel variables. */
function typedoc(dir: string): Promise<Build> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };
  delete env.NODE_CHANNEL_FD;
  delete env.NODE_CHANNEL_SERIALIZATION_MODE;
  return new Promise((resolve) => {
    execFile(process.execPath, [TYPEDOC, '--out', dir], { cwd: ROOT, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ code, output: `${stdout}\n${stderr}`.replace(/\u001b\[[0-9;]*m/g, '') });
    });
  });
}

function warnings(output: string): string[] {
  return output
    .split('\n')
    .map((line) => /^\[warning\] (.*)$/.exec(line.trim())?.[1])
    .filter((w): w is string => w !== undefined && !/^Found \d+ errors and \d+ warnings$/.test(w));
}

function page(path: string): string {
  const file = join(out, path);
  expect(existsSync(file), `${path} is written`).toBe(true);
  return readFileSync(file, 'utf8');
}

describe('the API reference (typedoc)', () => {
  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'reflectkit-apidocs-'));
    build = await typedoc(out);
  }, 180_000);

  afterAll(() => {
    if (out !== undefined) rmSync(out, { recursive: true, force: true });
  });

  it('builds with the project config and exits 0', () => {
    expect(build.code, build.output).toBe(0);
    expect(build.output).toMatch(/html generated at/);
    expect(build.output).not.toMatch(/\[error\]/);
  });

  it('warns about nothing but the pending files: every other export is documented', () => {
    const unexpected = warnings(build.output).filter((w) => !PENDING.some((p) => p.test(w)));
    expect(unexpected, unexpected.join('\n')).toEqual([]);
  });

  it('writes the index and a page for known exports of each entry point', () => {
    expect(page('index.html')).toMatch(/reflectkit/);
    expect(page('classes/index.ReflectivityDataGenerator.html')).toMatch(/ReflectivityDataGenerator/);
    expect(page('classes/node.ReflectivityDataGenerator.html')).toMatch(/ReflectivityDataGenerator/);
    expect(page('functions/index.computeNrFromSld.html')).toMatch(/computeNrFromSld/);
    expect(page('classes/nn.Trainer.html')).toMatch(/Trainer/);
    expect(page('functions/report.chartSpecs.html')).toMatch(/chartSpecs/);
  });

  it('carries units and shapes into the pages', () => {
    expect(page('interfaces/index.NrFromSldOptions.html')).toContain('Å⁻¹');
    expect(page('interfaces/index.SldProfile.html')).toContain('10⁻⁶ Å⁻²');
    expect(page('functions/nn.predictSld.html')).toContain('(N, 2, P)');
  });
});
