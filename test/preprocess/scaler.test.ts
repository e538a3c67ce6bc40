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
    expect(scaler.toPyreflect()).toEqual({ nr: reference.nr, sld: reference.sld });
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

  it('rejects arrays that are not (N, 2, L)', () => {
    expect(() => NrSldScaler.fit(ndarray(new Float32Array(6), [1, 3, 2]), dataset.sld)).toThrowError(expect.objectContaining({ code: 'BAD_SHAPE', path: 'nr' }));
  });
});
