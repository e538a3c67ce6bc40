import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../src/version.js';

const ROOT = join(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;

/** Runs node in a clean child: without the test runner's IPC channel variables, which would open a pipe in it. */
function node(args: string[]): string {
  const env = { ...process.env };
  delete env.NODE_CHANNEL_FD;
  delete env.NODE_CHANNEL_SERIALIZATION_MODE;
  return execFileSync(process.execPath, args, { cwd: ROOT, env }).toString().trim();
}

describe('the published package', () => {
  it('declares ESM first, CJS, types first in every condition, no side effects, and the reflectkit bin', () => {
    expect(pkg.type).toBe('module');
    expect(pkg.sideEffects).toBe(false);
    expect(pkg.bin).toEqual({ reflectkit: './bin/reflectkit.js' });
    const exports = pkg.exports as Record<string, Record<string, Record<string, string>>>;
    for (const entry of ['.', './nn', './node', './report']) {
      for (const condition of ['import', 'require']) expect(Object.keys(exports[entry]![condition]!)[0]).toBe('types');
    }
    expect(VERSION).toBe(pkg.version);
  });

  it('loads by name with import and with require (self-reference through the exports map)', () => {
    const esm = node(['--input-type=module', '-e', "import * as r from 'reflectkit'; import * as n from 'reflectkit/node'; console.log(typeof r.ReflectivityDataGenerator, typeof n.readNpy, r.VERSION)"]);
    expect(esm).toBe(`function function ${VERSION}`);
    const cjs = node(['-e', "const r = require('reflectkit'); const n = require('reflectkit/node'); console.log(typeof r.simulateModel, typeof n.ReflectivityDataGenerator)"]);
    expect(cjs).toBe('function function');
  });

  it('exposes reflectkit/report by import and require; the CJS build renders an SVG', () => {
    const esm = node(['--input-type=module', '-e', "import * as r from 'reflectkit/report'; console.log(typeof r.renderSvg, typeof r.renderHtmlReport, typeof r.nrSpec)"]);
    expect(esm).toBe('function function function');
    const cjs = node([
      '-e',
      "const r = require('reflectkit/report'); r.renderSvg({ data: { values: [{ a: 1, b: 2 }] }, mark: 'point', encoding: { x: { field: 'a', type: 'quantitative' }, y: { field: 'b', type: 'quantitative' } } }).then(s => console.log(s.startsWith('<svg')))",
    ]);
    expect(cjs).toBe('true');
  });

  it('generates with worker threads from the CJS build too', () => {
    const out = node([
      '-e',
      "const { ReflectivityDataGenerator } = require('reflectkit/node'); new ReflectivityDataGenerator({ seed: 3, workers: 2 }).generate(40).then(d => console.log(d.nr.shape.join('x')))",
    ]);
    expect(out).toBe('40x2x308');
  });

  it('does no work at import time: importing leaves no timer, handle or thread running', () => {
    const out = node([
      '--input-type=module',
      '-e',
      "await import('reflectkit'); await import('reflectkit/node'); await import('reflectkit/report'); await new Promise((r) => setTimeout(r, 20)); const active = process.getActiveResourcesInfo(); console.log(JSON.stringify(active))",
    ]);
    expect(out).toBe('[]');
  });
});
