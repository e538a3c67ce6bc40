import { beforeAll, describe, expect, it } from 'vitest';
import { ReflectivityDataGenerator } from '../../src/data/generator.js';
import { evaluateMeasured } from '../../src/eval/evaluate-measured.js';
import { chiSquaredData } from '../../src/eval/metrics.js';
import { computeNrFromSld } from '../../src/eval/nr-from-sld.js';
import { predictSld } from '../../src/eval/predict.js';
import { useBackend } from '../../src/nn/backend.js';
import { createCnn } from '../../src/nn/cnn.js';
import { NrSldScaler } from '../../src/preprocess/scaler.js';
import { thrown } from '../helpers/errors.js';
import { SMALL } from '../nn/helpers.js';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('evaluateMeasured', () => {
  it('interpolates onto the model grid, predicts, and checks the NR at the measured points against R ± dR', async () => {
    const { nr, sld } = await new ReflectivityDataGenerator({ seed: 9, numLayers: 1, numQ: SMALL.inputPoints, profilePoints: SMALL.outputPoints }).generate(30);
    const scaler = NrSldScaler.fit(nr, sld);
    const cnn = createCnn(SMALL);
    const modelQ = Array.from({ length: SMALL.inputPoints }, (_, k) => nr.get(0, 0, k));
    // "Measured": curve 4 on a grid that starts above the model's first three points, plus the model's
    // points from index 3 on (so interpolation is exact there), dR = 5 % of R, dQ 1-σ 1 % of Q.
    const q = modelQ.slice(3);
    const r = q.map((_, k) => nr.get(4, 1, k + 3));
    const dr = r.map((v) => 0.05 * v);
    const dqSigma = q.map((v) => 0.01 * v);
    const result = evaluateMeasured({ cnn, scaler }, { q, r, dr, dqSigma, label: 'curve 4' }, { modelQ, backend: 'wasm', physics: { backing: 2.07, fronting: 0 } });

    expect(result.source).toEqual({ kind: 'measured', label: 'curve 4', outsideFraction: 3 / SMALL.inputPoints, pointsBelow: 3, pointsAbove: 0 });
    // The model saw the curve with its first three points clamped to the first measured R.
    const input = modelQ.map((_, k) => (k < 3 ? r[0]! : r[k - 3]!));
    const expected = predictSld({ cnn, scaler }, { q: modelQ, r: input });
    expect(result.sld.predicted).toEqual(Array.from(expected.data.subarray(SMALL.outputPoints)));
    expect(result.sld.groundTruth).toBeNull();
    // NR computed back at the measured Q with the measured resolution.
    const back = computeNrFromSld({ z: result.sld.z, sld: result.sld.predicted }, { q, dq: dqSigma, backing: 2.07, fronting: 0 });
    expect(result.nr.q).toEqual(q);
    expect(result.nr.computed).toEqual(Array.from(back.reflectivity));
    expect(result.nr.groundTruthError).toEqual(dr);
    expect(result.metrics.chi2).toBeCloseTo(chiSquaredData(result.nr.computed, r, dr), 12);
    expect(result.metrics).toMatchObject({ chi2Weighted: true, mse: null, r2: null, curves: 0 });
    expect(result.chi).toEqual([]);
    cnn.model.dispose();
  });

  it('refuses a model grid that does not match the model', () => {
    const cnn = createCnn(SMALL);
    const scaler = NrSldScaler.fromPyreflect({ nr: { x: { min: 0.01, max: 0.2 }, y: { min: -8, max: 0 } }, sld: { x: { min: 0, max: 300 }, y: { min: 0, max: 5 } } });
    const error = thrown(() => evaluateMeasured({ cnn, scaler }, { q: [0.01, 0.02], r: [1, 0.5] }, { modelQ: [0.01, 0.02], backend: 'wasm' }));
    expect(error).toMatchObject({ code: 'BAD_SHAPE', path: 'modelQ' });
    cnn.model.dispose();
  });
});
