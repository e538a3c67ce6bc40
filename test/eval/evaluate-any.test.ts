import { beforeAll, describe, expect, it } from 'vitest';
import { ReflectivityDataGenerator } from '../../src/data/generator.js';
import { evaluate } from '../../src/eval/evaluate-any.js';
import { evaluateMeasured } from '../../src/eval/evaluate-measured.js';
import { evaluateTestSplit } from '../../src/eval/evaluate.js';
import { useBackend } from '../../src/nn/backend.js';
import { createCnn } from '../../src/nn/cnn.js';
import { NrSldScaler } from '../../src/preprocess/scaler.js';
import { SMALL } from '../nn/helpers.js';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('evaluate', () => {
  it('runs the test-split or the measured-data evaluation by the input kind, with the same results', async () => {
    const { nr, sld } = await new ReflectivityDataGenerator({ seed: 4, numLayers: 1, numQ: SMALL.inputPoints, profilePoints: SMALL.outputPoints }).generate(12);
    const model = { cnn: createCnn(SMALL), scaler: NrSldScaler.fit(nr, sld) };
    const fixed = { now: () => 0 };
    const split = evaluate(model, { kind: 'test-split', nr, sld, testRows: [10, 11], options: { backend: 'wasm', ...fixed } });
    expect(split).toEqual(evaluateTestSplit(model, { nr, sld }, [10, 11], { backend: 'wasm', ...fixed }));
    expect(split.source.kind).toBe('test-split');
    const q = Array.from({ length: SMALL.inputPoints }, (_, k) => nr.get(0, 0, k));
    const r = Array.from({ length: SMALL.inputPoints }, (_, k) => nr.get(3, 1, k));
    const measured = evaluate(model, { kind: 'measured', curve: { q, r }, options: { modelQ: q, backend: 'wasm', ...fixed } });
    expect(measured).toEqual(evaluateMeasured(model, { q, r }, { modelQ: q, backend: 'wasm', ...fixed }));
    expect(measured.source.kind).toBe('measured');
    expect(measured.metrics.chi2Weighted).toBe(false);
    model.cnn.model.dispose();
  });
});
