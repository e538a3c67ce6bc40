import { beforeAll, describe, expect, it } from 'vitest';
import { ReflectivityDataGenerator } from '../../src/data/generator.js';
import { evaluateTestSplit } from '../../src/eval/evaluate.js';
import { chiSquaredLog } from '../../src/eval/metrics.js';
import { computeNrFromSld } from '../../src/eval/nr-from-sld.js';
import { predictSld } from '../../src/eval/predict.js';
import { useBackend } from '../../src/nn/backend.js';
import { Trainer } from '../../src/nn/trainer.js';
import { NrSldScaler } from '../../src/preprocess/scaler.js';
import { splitIndices } from '../../src/preprocess/split.js';
import { thrown } from '../helpers/errors.js';
import { SMALL } from '../nn/helpers.js';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('evaluateTestSplit', () => {
  it('measures the whole test split, takes its example from the test split, and reports the real z', async () => {
    const n = 150;
    const dataset = await new ReflectivityDataGenerator({ seed: 5, numLayers: 1, numQ: SMALL.inputPoints, profilePoints: SMALL.outputPoints }).generate(n);
    const split = splitIndices(n, { seed: 2 });
    const scaler = NrSldScaler.fit(dataset.nr, dataset.sld, { rows: split.train });
    const trainer = new Trainer(SMALL, { epochs: 6, batchSize: 16, learningRate: 3e-3, seed: 1 });
    const untrained = evaluateTestSplit({ cnn: trainer.cnn, scaler }, dataset, split.test, { backend: 'wasm' });
    const fitted = await trainer.fit({
      trainX: scaler.modelInput(dataset.nr, split.train),
      trainY: scaler.modelTarget(dataset.sld, split.train),
      validationX: scaler.modelInput(dataset.nr, split.validation),
      validationY: scaler.modelTarget(dataset.sld, split.validation),
    });
    const result = evaluateTestSplit({ cnn: trainer.cnn, scaler }, dataset, split.test, {
      backend: 'wasm',
      modelId: 'small',
      history: fitted.history,
      physics: { backing: 2.07, fronting: 0 },
      example: 2,
    });

    // The example is a test curve, never a training one.
    expect(result.source).toEqual({ kind: 'test-split', datasetIndex: split.test[2], testCurves: split.test.length });
    expect(Array.from(split.train)).not.toContain(split.test[2]);
    // Learning shows in the metrics, which are over the whole split.
    expect(result.metrics.curves).toBe(split.test.length);
    expect(result.metrics.perCurve.mse).toHaveLength(split.test.length);
    expect(result.metrics.r2!).toBeGreaterThan(untrained.metrics.r2! + 0.2);
    expect(result.metrics.mse!).toBeLessThan(untrained.metrics.mse!);

    // The metrics equal an independent computation from predictSld.
    const predicted = predictSld({ cnn: trainer.cnn, scaler }, dataset.nr);
    let squared = 0;
    for (const row of split.test) for (let k = 0; k < SMALL.outputPoints; k++) squared += (predicted.get(row, 1, k) - dataset.sld.get(row, 1, k)) ** 2;
    expect(result.metrics.mse!).toBeCloseTo(squared / (split.test.length * SMALL.outputPoints), 6);

    // Real z, true and predicted SLD of the example; the NR computed from the prediction with the physics given.
    const index = split.test[2]!;
    expect(result.sld.z).toEqual(Array.from({ length: SMALL.outputPoints }, (_, k) => dataset.sld.get(index, 0, k)));
    expect(result.sld.groundTruth![7]).toBe(dataset.sld.get(index, 1, 7));
    expect(result.sld.predicted[7]).toBeCloseTo(predicted.get(index, 1, 7), 5);
    expect(result.nr.groundTruth).toEqual(Array.from({ length: SMALL.inputPoints }, (_, k) => dataset.nr.get(index, 1, k)));
    const again = computeNrFromSld({ z: result.sld.predictedZ, sld: result.sld.predicted }, { q: result.nr.q, backing: 2.07, fronting: 0 });
    expect(result.nr.computed).toEqual(Array.from(again.reflectivity));
    expect(result.metrics.chi2).toBeCloseTo(chiSquaredLog(result.nr.computed, result.nr.groundTruth), 12);
    expect(result.chi).toHaveLength(50);
    expect(result.chi[49]).toMatchObject({ index: SMALL.outputPoints - 1, actual: result.sld.groundTruth![SMALL.outputPoints - 1] });
    expect(result.training.epochs).toEqual([1, 2, 3, 4, 5, 6]);
    expect(result).toMatchObject({ backend: 'wasm', modelId: 'small' });
    expect(Object.keys(result.timing)).toEqual(expect.arrayContaining(['prediction', 'metrics', 'nrFromSld', 'total']));
    // Plain JSON: survives a round trip.
    expect(JSON.parse(JSON.stringify(result)).metrics.curves).toBe(split.test.length);
    await trainer.dispose();
  });

  it('refuses an empty split or an example outside it', async () => {
    const dataset = await new ReflectivityDataGenerator({ seed: 5, numLayers: 1, numQ: SMALL.inputPoints, profilePoints: SMALL.outputPoints }).generate(10);
    const scaler = NrSldScaler.fit(dataset.nr, dataset.sld);
    const trainer = new Trainer(SMALL, { epochs: 1 });
    const model = { cnn: trainer.cnn, scaler };
    expect(thrown(() => evaluateTestSplit(model, dataset, [], { backend: 'wasm' }))).toMatchObject({ code: 'INVALID_OPTION', path: 'testRows' });
    expect(thrown(() => evaluateTestSplit(model, dataset, [1, 12], { backend: 'wasm' }))).toMatchObject({ code: 'INVALID_OPTION', path: 'testRows[1]' });
    expect(thrown(() => evaluateTestSplit(model, dataset, [1, 2], { backend: 'wasm', example: 2 }))).toMatchObject({ code: 'INVALID_OPTION', path: 'example' });
    await trainer.dispose();
  });
});
