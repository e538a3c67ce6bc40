import { describe, expect, it } from 'vitest';
import { ReflectivityDataGenerator } from '../../src/data/generator.js';
import { ForwardModel } from '../../src/physics/forward.js';
import { LEGACY_Q_GRID, logspaceQ } from '../../src/physics/qgrid.js';
import { legacyLayerDesc } from '../../src/sample/defaults.js';
import type { LayerDesc } from '../../src/sample/layers.js';
import { maxRelativeError } from '../helpers/compare.js';
import { rejection, thrown } from '../helpers/errors.js';
import { runPythonJson } from '../helpers/python.js';

const film: LayerDesc[] = [
  { name: 'substrate', sld: 2.07, isld: 0, thickness: 0, roughness: 3 },
  { name: 'siox', sld: 3.47, isld: 0, thickness: 12, roughness: 2 },
  { name: 'polymer', sld: 1.5, isld: 0, thickness: 150, roughness: 10 },
  { name: 'air', sld: 0, isld: 0, thickness: 0, roughness: 0 },
];

describe('model selection (pyreflect semantics)', () => {
  it('defaults to the legacy 8-layer model with its 19 bounds, its Q grid and uniform sampling', () => {
    const g = new ReflectivityDataGenerator({ seed: 1 });
    expect(g.model.legacy).toBe(true);
    expect(g.model.layers).toHaveLength(8);
    expect(g.model.bounds).toHaveLength(19);
    expect(g.model.sampling).toBe('uniform');
    const q = logspaceQ(LEGACY_Q_GRID.qMin, LEGACY_Q_GRID.qMax, 308);
    expect(g.model.q).toEqual(Array.from(q));
  });
  it('numLayers other than 5 gives pyreflect’s auto description and 4 + 3n bounds, LHS and the default grid', () => {
    const g = new ReflectivityDataGenerator({ numLayers: 3, seed: 1 });
    expect(g.model.legacy).toBe(false);
    expect(g.model.layers).toHaveLength(6);
    expect(g.model.bounds).toHaveLength(13);
    expect(g.model.sampling).toBe('lhs');
    expect(g.model.q[0]).toBeCloseTo(0.0081, 15);
  });
  it('5 film layers with explicit bounds is not the legacy model', () => {
    const g = new ReflectivityDataGenerator({ numLayers: 5, layerDesc: legacyLayerDesc(), layerBound: [{ i: 2, par: 'sld', bounds: [1, 2] }], seed: 1 });
    expect(g.model.legacy).toBe(false);
    expect(g.model.bounds).toHaveLength(1);
  });
  it('a description without bounds gets auto bounds for numLayers film layers', () => {
    const g = new ReflectivityDataGenerator({ numLayers: 1, layerDesc: film, seed: 1 });
    expect(g.model.bounds).toHaveLength(7);
  });
  it('never modifies the caller’s layerDesc (pyreflect does)', async () => {
    const desc = structuredClone(film);
    const g = new ReflectivityDataGenerator({ layerDesc: desc, layerBound: [{ i: 2, par: 'thickness', bounds: [50, 60] }], seed: 3 });
    await g.generate(20);
    expect(desc).toEqual(film);
  });
});

describe('generate', () => {
  it('returns float32 (N, 2, Q) and (N, 2, P) arrays with Q rows, shifted z and physical values', async () => {
    const g = new ReflectivityDataGenerator({ seed: 11 });
    const { nr, sld, parameters } = await g.generate(40);
    expect(nr.shape).toEqual([40, 2, 308]);
    expect(sld.shape).toEqual([40, 2, 900]);
    expect(parameters.shape).toEqual([40, 19]);
    expect(nr.data).toBeInstanceOf(Float32Array);
    const q32 = Float32Array.from(g.model.q);
    for (let i = 0; i < 40; i++) {
      expect(nr.get(i, 0, 0)).toBe(q32[0]);
      expect(nr.get(i, 0, 307)).toBe(q32[307]);
      expect(sld.get(i, 0, 0)).toBe(0);
      expect(sld.get(i, 0, 899)).toBeGreaterThan(300);
      expect(sld.get(i, 1, 0)).toBeCloseTo(2.07, 2); // substrate side
      expect(Math.abs(sld.get(i, 1, 899))).toBeLessThan(0.05); // air side
    }
  });

  it('each curve is the forward model of its own sampled parameters', async () => {
    const g = new ReflectivityDataGenerator({ numLayers: 2, seed: 5, background: 1e-7, scale: 0.95, qResolution: 0.05 });
    const { nr, sld, parameters } = await g.generate(6);
    const forward = new ForwardModel({ q: g.model.q, qResolution: 0.05 });
    for (let i = 0; i < 6; i++) {
      const layers = g.model.layers.map((l) => ({ ...l }));
      g.model.bounds.forEach((b, j) => {
        (layers[b.i] as unknown as Record<string, number>)[b.par] = parameters.get(i, j);
      });
      const expected = forward.simulate(
        { sld: layers.map((l) => l.sld), isld: layers.map((l) => l.isld ?? 0), thickness: layers.map((l) => l.thickness), roughness: layers.map((l) => l.roughness) },
        0.95,
        1e-7,
      );
      const r32 = Float32Array.from(expected.reflectivity);
      const z32 = Float32Array.from(expected.z, (z) => z - expected.z[0]!);
      for (let k = 0; k < 308; k += 7) expect(nr.get(i, 1, k)).toBe(r32[k]);
      for (let k = 0; k < 900; k += 11) expect(sld.get(i, 0, k)).toBe(z32[k]);
    }
  });

  it('matches refl1d called as pyreflect calls it, curve by curve (float32)', async () => {
    const g = new ReflectivityDataGenerator({ seed: 21 });
    const { nr, sld, parameters } = await g.generate(5);
    const cases = Array.from({ length: 5 }, (_, i) => {
      const layers = g.model.layers.map((l) => ({ sld: l.sld, isld: l.isld ?? 0, thickness: l.thickness, roughness: l.roughness }));
      g.model.bounds.forEach((b, j) => {
        (layers[b.i] as Record<string, number>)[b.par] = parameters.get(i, j);
      });
      return { layers, q: g.model.q, qResolution: 0.0294855, background: 0, scale: 1, profilePoints: 900 };
    });
    const { results } = runPythonJson<{ results: Array<{ r_final: number[]; z: number[]; sld: number[] }> }>('refl1d_oracle.py', { cases });
    results.forEach((reference, i) => {
      const ours = Array.from({ length: 308 }, (_, k) => nr.get(i, 1, k));
      expect(maxRelativeError(ours, Float32Array.from(reference.r_final))).toBeLessThanOrEqual(1.2e-7);
      const z = Float32Array.from(reference.z, (v) => v - reference.z[0]!);
      for (let k = 0; k < 900; k++) {
        expect(Math.abs(sld.get(i, 0, k) - z[k]!)).toBeLessThanOrEqual(1e-4);
        expect(Math.abs(sld.get(i, 1, k) - reference.sld[k]!)).toBeLessThanOrEqual(1e-6);
      }
    });
  });

  it('is reproducible for a seed, differs between seeds, and continues between runs', async () => {
    const a = await new ReflectivityDataGenerator({ seed: 8, numLayers: 2 }).generate(30);
    const b = await new ReflectivityDataGenerator({ seed: 8, numLayers: 2, chunkSize: 7 }).generate(30);
    const c = await new ReflectivityDataGenerator({ seed: 9, numLayers: 2 }).generate(30);
    expect(Array.from(b.nr.data)).toEqual(Array.from(a.nr.data));
    expect(Array.from(b.sld.data)).toEqual(Array.from(a.sld.data));
    expect(Array.from(c.nr.data)).not.toEqual(Array.from(a.nr.data));
    const g = new ReflectivityDataGenerator({ seed: 8, numLayers: 2 });
    const first = await g.generate(30);
    const second = await g.generate(30);
    expect(Array.from(first.nr.data)).toEqual(Array.from(a.nr.data));
    expect(Array.from(second.nr.data)).not.toEqual(Array.from(first.nr.data));
    expect(second.nr.shape).toEqual([30, 2, 308]); // not cumulative, unlike pyreflect
  });

  it('reports progress up to the total', async () => {
    const seen: number[] = [];
    await new ReflectivityDataGenerator({ seed: 1, chunkSize: 16, onProgress: (p) => seen.push(p.done) }).generate(50);
    expect(seen).toEqual([16, 32, 48, 50]);
  });

  it('stops with ABORTED when its signal fires, before or during a run', async () => {
    const before = new AbortController();
    before.abort();
    expect((await rejection(new ReflectivityDataGenerator({ seed: 1, signal: before.signal }).generate(10))).code).toBe('ABORTED');
    const during = new AbortController();
    const seen: number[] = [];
    const g = new ReflectivityDataGenerator({
      seed: 1,
      chunkSize: 10,
      signal: during.signal,
      onProgress: (p) => {
        seen.push(p.done);
        if (p.done >= 20) during.abort();
      },
    });
    expect((await rejection(g.generate(1000))).code).toBe('ABORTED');
    expect(Math.max(...seen)).toBeLessThan(1000);
  });
});

describe('bad options get a ReflectkitError with the field', () => {
  const cases: Array<[string, () => unknown, string, string]> = [
    ['a non-integer curve count', () => new ReflectivityDataGenerator({ seed: 1 }).generate(2.5), 'INVALID_OPTION', 'numCurves'],
    ['a zero curve count', () => new ReflectivityDataGenerator({ seed: 1 }).generate(0), 'INVALID_OPTION', 'numCurves'],
    ['a negative curve count', () => new ReflectivityDataGenerator({ seed: 1 }).generate(-4), 'INVALID_OPTION', 'numCurves'],
  ];
  for (const [what, run, code, path] of cases) {
    it(`rejects ${what}`, async () => {
      const error = await rejection(Promise.resolve().then(run));
      expect(error.code).toBe(code);
      expect(error.path).toBe(path);
    });
  }

  const constructed: Array<[string, object, string, string]> = [
    ['a seed out of range', { seed: -1 }, 'INVALID_OPTION', 'seed'],
    ['a fractional seed', { seed: 1.5 }, 'INVALID_OPTION', 'seed'],
    ['an unknown option', { numCurve: 3 }, 'INVALID_OPTION', ''],
    ['Q ≤ 0', { q: [0, 0.1, 0.2] }, 'INVALID_Q', 'q[0]'],
    ['unsorted Q', { q: [0.01, 0.03, 0.02] }, 'INVALID_Q', 'q[2]'],
    ['duplicate Q', { q: [0.01, 0.02, 0.02] }, 'INVALID_Q', 'q[2]'],
    ['a single Q', { q: [0.01] }, 'INVALID_Q', 'q'],
    ['qMax below qMin', { qMin: 0.2, qMax: 0.1 }, 'INVALID_Q', 'qMax'],
    ['q together with qMin', { q: [0.01, 0.02], qMin: 0.01 }, 'INVALID_Q', 'qMin'],
    ['negative qMin', { qMin: -0.01 }, 'INVALID_OPTION', 'qMin'],
    ['one Q point', { numQ: 1 }, 'INVALID_OPTION', 'numQ'],
    ['negative resolution', { qResolution: -0.1 }, 'INVALID_OPTION', 'qResolution'],
    ['NaN background', { background: Number.NaN }, 'INVALID_OPTION', 'background'],
    ['zero scale', { scale: 0 }, 'INVALID_OPTION', 'scale'],
    ['one profile point', { profilePoints: 1 }, 'INVALID_OPTION', 'profilePoints'],
    ['an unknown sampling', { sampling: 'sobol' }, 'INVALID_OPTION', 'sampling'],
    ['negative workers', { workers: -1 }, 'INVALID_OPTION', 'workers'],
    ['fewer than two layers', { layerDesc: [film[0]], layerBound: [] }, 'INVALID_LAYERS', 'layerDesc'],
    ['a negative thickness', { layerDesc: [film[0], { ...film[1], thickness: -3 }, film[3]], layerBound: [] }, 'INVALID_LAYERS', 'layerDesc[1].thickness'],
    ['bounds beyond the layers', { layerDesc: film, layerBound: [{ i: 4, par: 'sld', bounds: [0, 1] }] }, 'INVALID_BOUNDS', 'layerBound[0].i'],
    ['lo > hi', { layerDesc: film, layerBound: [{ i: 2, par: 'sld', bounds: [2, 1] }] }, 'INVALID_BOUNDS', 'layerBound[0].bounds'],
    ['an unknown par', { layerDesc: film, layerBound: [{ i: 2, par: 'name', bounds: [2, 1] }] }, 'INVALID_BOUNDS', 'layerBound[0].par'],
    ['too few layers for auto bounds', { numLayers: 4, layerDesc: film }, 'INVALID_LAYERS', 'layerDesc'],
    ['a non-function onProgress', { onProgress: 3 }, 'INVALID_OPTION', 'onProgress'],
  ];
  for (const [what, options, code, path] of constructed) {
    it(`rejects ${what} (${code} at ${path || 'the root'})`, () => {
      const error = thrown(() => new ReflectivityDataGenerator(options as never));
      expect(error.code).toBe(code);
      expect(error.path).toBe(path);
      expect(error.message.length).toBeGreaterThan(10);
    });
  }
});
