import ndarray from 'ndarray';
import { beforeAll, describe, expect, it } from 'vitest';
import { ReflectivityDataGenerator } from '../../src/data/generator.js';
import { predictSld } from '../../src/eval/predict.js';
import { useBackend } from '../../src/nn/backend.js';
import { createCnn } from '../../src/nn/cnn.js';
import { tf } from '../../src/nn/tf.js';
import { NrSldScaler } from '../../src/preprocess/scaler.js';
import { thrown } from '../helpers/errors.js';
import { SMALL } from '../nn/helpers.js';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('predictSld', () => {
  it('normalises with the training stats, runs the model in eval mode and denormalises both rows', async () => {
    const { nr, sld } = await new ReflectivityDataGenerator({ seed: 3, numLayers: 1, numQ: SMALL.inputPoints, profilePoints: SMALL.outputPoints }).generate(10);
    const scaler = NrSldScaler.fit(nr, sld);
    const cnn = createCnn({ ...SMALL, dropout: 0.5 });
    const out = predictSld({ cnn, scaler }, nr, { batchSize: 4 });
    expect(out.shape).toEqual([10, 2, SMALL.outputPoints]);
    // By hand: model output on the normalised input, then the inverse min-max of each row.
    const x = tf.tensor3d(scaler.modelInput(nr), [10, SMALL.inputPoints, 1]);
    const raw = (cnn.model.apply(x, { training: false }) as tf.Tensor).dataSync() as Float32Array;
    const expected = scaler.sldFromModel(Float32Array.from(raw), 10);
    for (let k = 0; k < expected.length; k += 37) expect(out.data[k]).toBeCloseTo(expected[k]!, 5);
    const { x: zRange, y: sldRange } = scaler.stats.sld;
    expect(out.data[5]).toBeCloseTo(zRange.min + raw[5]! * (zRange.max - zRange.min), 3);
    expect(out.data[SMALL.outputPoints + 5]).toBeCloseTo(sldRange.min + raw[SMALL.outputPoints + 5]! * (sldRange.max - sldRange.min), 4);
    // Eval mode: dropout 0.5 does not change a second prediction.
    expect(Array.from(predictSld({ cnn, scaler }, nr).data)).toEqual(Array.from(out.data));
    // One curve, as (2, Q) or {q, r}, gives row 3 of the batch.
    const q = Array.from({ length: SMALL.inputPoints }, (_, k) => nr.get(3, 0, k));
    const r = Array.from({ length: SMALL.inputPoints }, (_, k) => nr.get(3, 1, k));
    const one = predictSld({ cnn, scaler }, { q, r });
    const two = predictSld({ cnn, scaler }, nr.pick(3, null, null) as ndarray.NdArray<Float32Array>);
    const row3 = Array.from(out.data.subarray(3 * 2 * SMALL.outputPoints, 4 * 2 * SMALL.outputPoints));
    expect(Array.from(one.data)).toEqual(row3);
    expect(Array.from(two.data)).toEqual(row3);
    // A strided view (every other curve) is copied, not misread.
    const every = predictSld({ cnn, scaler }, nr.step(2) as ndarray.NdArray<Float32Array>);
    expect(Array.from(every.data.subarray(2 * SMALL.outputPoints, 4 * SMALL.outputPoints))).toEqual(
      Array.from(out.data.subarray(2 * 2 * SMALL.outputPoints, 3 * 2 * SMALL.outputPoints)),
    );
    cnn.model.dispose();
  });

  it('refuses curves on another grid length', async () => {
    const { nr, sld } = await new ReflectivityDataGenerator({ seed: 3, numLayers: 1, numQ: 40, profilePoints: SMALL.outputPoints }).generate(2);
    const cnn = createCnn(SMALL);
    const error = thrown(() => predictSld({ cnn, scaler: NrSldScaler.fit(nr, sld) }, nr));
    expect(error).toMatchObject({ code: 'BAD_SHAPE', path: 'nr' });
    expect(error.message).toContain('40 Q points, the model takes 32');
    cnn.model.dispose();
  });
});
