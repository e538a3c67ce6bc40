import ndarray from 'ndarray';
import type { NrArray, SldArray } from '../data/dataset.js';
import { ReflectkitError } from '../errors.js';
import type { Cnn } from '../nn/cnn.js';
import { tf } from '../nn/tf.js';
import type { NrSldScaler } from '../preprocess/scaler.js';

/** A trained model as inference needs it: the network and the normalisation it was trained with. */
export interface SldPredictor {
  /** The network: input `(N, Q, 1)` normalised log R, output `(N, 2, P)` normalised z and SLD. */
  cnn: Cnn;
  /** The normalisation statistics the network was trained with. */
  scaler: NrSldScaler;
}

/** One curve: Q (Å⁻¹) and R on the model's Q grid. */
export interface ReflectivityCurve {
  /** Q, Å⁻¹; length Q (the model's input points). */
  q: ArrayLike<number>;
  /** Reflectivity R at each Q (unitless, not log); same length as `q`. */
  r: ArrayLike<number>;
}

/** Curves as `(N, 2, Q)` or `(2, Q)` ndarrays, or one `{q, r}` curve. */
export type PredictInput = NrArray | ReflectivityCurve;

function asCurves(input: PredictInput, points: number): NrArray {
  if ('shape' in input && 'data' in input) {
    const shape = input.shape;
    if (shape.length === 2 && shape[0] === 2) {
      return ndarray(Float32Array.from({ length: 2 * shape[1]! }, (_, k) => input.get(k < shape[1]! ? 0 : 1, k % shape[1]!)), [1, 2, shape[1]!]);
    }
    if (shape.length !== 3 || shape[1] !== 2) {
      throw new ReflectkitError('BAD_SHAPE', `curves of shape (${shape.join(', ')})`, { path: 'nr', expected: `(N, 2, ${points}) or (2, ${points})` });
    }
    const [n, , length] = shape as [number, number, number];
    const dense = input.offset === 0 && input.stride[0] === 2 * length && input.stride[1] === length && input.stride[2] === 1;
    if (dense && input.data instanceof Float32Array && input.data.length === n * 2 * length) return input;
    // A view (a slice, a transposed or float64 array): copy it into a dense float32 array.
    const data = new Float32Array(n * 2 * length);
    for (let i = 0; i < n; i++) for (let row = 0; row < 2; row++) for (let k = 0; k < length; k++) data[(2 * i + row) * length + k] = input.get(i, row, k);
    return ndarray(data, [n, 2, length]);
  }
  const { q, r } = input as ReflectivityCurve;
  if (q?.length !== r?.length) {
    throw new ReflectkitError('BAD_SHAPE', `${q?.length} Q values and ${r?.length} R values`, { path: 'nr', expected: 'equal lengths' });
  }
  const data = new Float32Array(2 * q.length);
  for (let k = 0; k < q.length; k++) {
    data[k] = q[k]!;
    data[q.length + k] = r[k]!;
  }
  return ndarray(data, [1, 2, q.length]);
}

/**
 * Predicts SLD profiles from reflectivity curves, as pyreflect's `predict_sld_from_nr` but batched and in
 * eval mode without dropout: log10-clip and normalise R with the training statistics, run the network,
 * denormalise both output rows.
 *
 * @param nr `(N, 2, Q)` curves (row 0 Q in Å⁻¹, row 1 R), one `(2, Q)` curve, or `{q, r}`; Q must be the
 *   model's input length (curves measured on another grid: interpolate first).
 * @param model the network and the scaler it was trained with.
 * @param options.batchSize curves per forward pass (default 64; bounds memory).
 * @returns `(N, 2, P)` float32: row 0 z (Å, from the substrate side), row 1 SLD (10⁻⁶ Å⁻²).
 * @throws ReflectkitError `BAD_SHAPE` when the curves do not match the model's input length.
 */
export function predictSld(model: SldPredictor, nr: PredictInput, options: { batchSize?: number } = {}): SldArray {
  const { inputPoints: q, outputPoints: p } = model.cnn.config;
  const curves = asCurves(nr, q);
  const [n, , length] = curves.shape as [number, number, number];
  if (length !== q) {
    throw new ReflectkitError('BAD_SHAPE', `curves have ${length} Q points, the model takes ${q}`, { path: 'nr', expected: `(N, 2, ${q})`, received: curves.shape });
  }
  const batchSize = options.batchSize ?? 64;
  const input = model.scaler.modelInput(curves);
  const output = new Float32Array(n * 2 * p);
  for (let from = 0; from < n; from += batchSize) {
    const to = Math.min(n, from + batchSize);
    const values = tf.tidy(() => {
      const x = tf.tensor3d(input.subarray(from * q, to * q), [to - from, q, 1]);
      return (model.cnn.model.apply(x, { training: false }) as tf.Tensor).dataSync() as Float32Array;
    });
    output.set(values, from * 2 * p);
  }
  return ndarray(model.scaler.sldFromModel(output, n), [n, 2, p]);
}
