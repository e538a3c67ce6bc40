import ndarray from 'ndarray';
import { describe, expect, it } from 'vitest';
import { ReflectivityDataGenerator } from '../../src/data/generator.js';
import { NrSldScaler } from '../../src/preprocess/scaler.js';
import { runPython } from '../helpers/python.js';

const dataset = await new ReflectivityDataGenerator({ seed: 12, numLayers: 2 }).generate(40);

describe('NrSldScaler', () => {
  it('matches pyreflect’s normalize_xy_curves (log10 clip 1e-8, global min-max per axis), computed with numpy', () => {
    const scaler = NrSldScaler.fit(dataset.nr, dataset.sld);
    const code = [
      'import sys, json, numpy as np',
      'd = json.loads(sys.stdin.read()); nr = np.array(d["nr"], dtype=np.float32).reshape(40, 2, 308); sld = np.array(d["sld"], dtype=np.float32).reshape(40, 2, 900)',
      'lnr = nr.astype(np.float64).copy(); lnr[:, 1, :] = np.log10(np.clip(lnr[:, 1, :], 1e-8, None))',
      'def stats(a): return {"x": {"min": float(a[:, 0].min()), "max": float(a[:, 0].max())}, "y": {"min": float(a[:, 1].min()), "max": float(a[:, 1].max())}}',
      'sn, ss = stats(lnr), stats(sld.astype(np.float64))',
      'x = (lnr[:, 1, :] - sn["y"]["min"]) / (sn["y"]["max"] - sn["y"]["min"])',
      'zs = (sld[:, 0, :] - ss["x"]["min"]) / (ss["x"]["max"] - ss["x"]["min"])',
      'print(json.dumps({"nr": sn, "sld": ss, "x": x.ravel().tolist(), "z": zs.ravel().tolist()}))',
    ].join('\n');
    const reference = JSON.parse(runPython(code, [], JSON.stringify({ nr: Array.from(dataset.nr.data), sld: Array.from(dataset.sld.data) }))) as {
      nr: unknown;
      sld: unknown;
      x: number[];
      z: number[];
    };
    // numpy's SIMD log10 and V8's libm may differ in the last bit: min and max agree to 2 ulp.
    const ours = scaler.toPyreflect() as unknown as Record<string, Record<string, Record<string, number>>>;
    const theirs = { nr: reference.nr, sld: reference.sld } as unknown as Record<string, Record<string, Record<string, number>>>;
    for (const a of ['nr', 'sld']) for (const x of ['x', 'y']) for (const e of ['min', 'max']) {
      const want = theirs[a]![x]![e]!;
      expect(Math.abs(ours[a]![x]![e]! - want), `${a}.${x}.${e}`).toBeLessThanOrEqual(2 * Number.EPSILON * Math.max(1, Math.abs(want)));
    }
    const input = scaler.modelInput(dataset.nr);
    expect(input.length).toBe(40 * 308);
    reference.x.forEach((v, i) => expect(Math.abs(input[i]! - v)).toBeLessThanOrEqual(1e-7));
    const target = scaler.modelTarget(dataset.sld);
    for (let r = 0; r < 40; r++) for (let k = 0; k < 900; k += 37) expect(Math.abs(target[2 * r * 900 + k]! - reference.z[r * 900 + k]!)).toBeLessThanOrEqual(1e-7);
  });

  it('fits on the rows it is given, so validation and test data stay out of the statistics', () => {
    const train = Uint32Array.from({ length: 30 }, (_, i) => i);
    const scaler = NrSldScaler.fit(dataset.nr, dataset.sld, { rows: train });
    const input = scaler.modelInput(dataset.nr, train);
    expect(Math.min(...input)).toBe(0);
    expect(Math.max(...input)).toBe(1);
  });

  it('inverts the target back to physical z and SLD', () => {
    const scaler = NrSldScaler.fit(dataset.nr, dataset.sld);
    const back = scaler.sldFromModel(scaler.modelTarget(dataset.sld), 40);
    for (let i = 0; i < back.length; i += 13) expect(Math.abs(back[i]! - dataset.sld.data[i]!)).toBeLessThanOrEqual(2e-4 * (1 + Math.abs(dataset.sld.data[i]!)));
    const r = scaler.reflectivityFromModelInput(scaler.modelInput(dataset.nr, [0]));
    for (let k = 0; k < 308; k += 11) expect(r[k]! / dataset.nr.get(0, 1, k)).toBeCloseTo(1, 5);
  });

  it('handles a constant axis without dividing by zero', () => {
    const nr = ndarray(new Float32Array([0.01, 0.02, 0.5, 0.5, 0.01, 0.02, 0.5, 0.5]), [2, 2, 2]);
    const sld = ndarray(new Float32Array([0, 1, 2, 2, 0, 1, 2, 2]), [2, 2, 2]);
    const scaler = NrSldScaler.fit(nr, sld);
    expect(Array.from(scaler.modelInput(nr))).toEqual([0, 0, 0, 0]);
    expect(Array.from(scaler.sldFromModel(scaler.modelTarget(sld), 2))).toEqual([0, 1, 2, 2, 0, 1, 2, 2]);
  });

  it('round-trips its JSON and pyreflect’s layout, and rejects malformed stats', () => {
    const scaler = NrSldScaler.fit(dataset.nr, dataset.sld);
    const json = JSON.parse(JSON.stringify(scaler)) as unknown;
    expect(NrSldScaler.fromJSON(json).toJSON()).toEqual(scaler.toJSON());
    expect(NrSldScaler.fromPyreflect(scaler.toPyreflect()).toJSON()).toEqual(scaler.toJSON());
    expect(() => NrSldScaler.fromJSON({ ...scaler.toJSON(), clipMin: -1 })).toThrowError(expect.objectContaining({ code: 'INVALID_CONFIG', path: 'stats.clipMin' }));
    expect(() => NrSldScaler.fromPyreflect({ nr: { x: { min: 1, max: 0 }, y: { min: 0, max: 1 } }, sld: scaler.toPyreflect().sld })).toThrowError(
      expect.objectContaining({ code: 'INVALID_CONFIG', path: 'stats.nr.x' }),
    );
  });

  it('z-scores each axis with the mean and deviation numpy computes, fitted on the given rows, and inverts it', () => {
    const train = Uint32Array.from({ length: 30 }, (_, i) => i);
    const scaler = NrSldScaler.fit(dataset.nr, dataset.sld, { rows: train, normalization: 'zscore' });
    expect(scaler.normalization).toBe('zscore');
    const code = [
      'import sys, json, numpy as np',
      'd = json.loads(sys.stdin.read()); nr = np.array(d["nr"], dtype=np.float32).reshape(40, 2, 308)[:30].astype(np.float64); sld = np.array(d["sld"], dtype=np.float32).reshape(40, 2, 900)[:30].astype(np.float64)',
      'nr[:, 1, :] = np.log10(np.clip(nr[:, 1, :], 1e-8, None))',
      'm = lambda a: {"x": {"mean": float(a[:, 0].mean()), "std": float(a[:, 0].std())}, "y": {"mean": float(a[:, 1].mean()), "std": float(a[:, 1].std())}}',
      'print(json.dumps({"nr": m(nr), "sld": m(sld)}))',
    ].join('\n');
    const reference = JSON.parse(runPython(code, [], JSON.stringify({ nr: Array.from(dataset.nr.data), sld: Array.from(dataset.sld.data) }))) as Record<'nr' | 'sld', Record<'x' | 'y', { mean: number; std: number }>>;
    const moments = scaler.toJSON().moments!;
    for (const array of ['nr', 'sld'] as const) {
      for (const axis of ['x', 'y'] as const) {
        expect(moments[array][axis].mean).toBeCloseTo(reference[array][axis].mean, 10);
        expect(moments[array][axis].std).toBeCloseTo(reference[array][axis].std, 10);
      }
    }
    // The training rows' model input has mean 0 and deviation 1; the other rows are scaled with the same numbers.
    const input = scaler.modelInput(dataset.nr, train);
    const mean = input.reduce((s, v) => s + v, 0) / input.length;
    const std = Math.sqrt(input.reduce((s, v) => s + (v - mean) ** 2, 0) / input.length);
    expect(Math.abs(mean)).toBeLessThan(1e-5);
    expect(std).toBeCloseTo(1, 5);
    expect(Math.min(...input)).toBeLessThan(0);
    const back = scaler.sldFromModel(scaler.modelTarget(dataset.sld), 40);
    for (let i = 0; i < back.length; i += 13) expect(Math.abs(back[i]! - dataset.sld.data[i]!)).toBeLessThanOrEqual(2e-4 * (1 + Math.abs(dataset.sld.data[i]!)));
    expect(scaler.normalizeSld(moments.sld.y.mean)).toBe(0);
  });

  it('keeps the method in its JSON; stats without one are min-max; z-score stats need their moments', () => {
    const z = NrSldScaler.fit(dataset.nr, dataset.sld, { normalization: 'zscore' });
    expect(NrSldScaler.fromJSON(JSON.parse(JSON.stringify(z))).toJSON()).toEqual(z.toJSON());
    expect(Array.from(NrSldScaler.fromJSON(z.toJSON()).modelInput(dataset.nr, [3]))).toEqual(Array.from(z.modelInput(dataset.nr, [3])));
    const { normalization: _n, moments: _m, ...old } = NrSldScaler.fit(dataset.nr, dataset.sld).toJSON();
    const legacy = NrSldScaler.fromJSON(old);
    expect(legacy.normalization).toBe('minmax');
    expect(Math.max(...legacy.modelInput(dataset.nr))).toBe(1);
    const { moments: _gone, ...noMoments } = z.toJSON();
    expect(() => NrSldScaler.fromJSON(noMoments)).toThrowError(expect.objectContaining({ code: 'INVALID_CONFIG', path: 'stats.moments' }));
    expect(() => NrSldScaler.fit(dataset.nr, dataset.sld, { normalization: 'robust' as never })).toThrowError(expect.objectContaining({ code: 'INVALID_OPTION', path: 'normalization' }));
  });

  it('rejects arrays that are not (N, 2, L)', () => {
    expect(() => NrSldScaler.fit(ndarray(new Float32Array(6), [1, 3, 2]), dataset.sld)).toThrowError(expect.objectContaining({ code: 'BAD_SHAPE', path: 'nr' }));
  });
});
