import type { NrArray, SldArray } from '../data/dataset.js';
import { evaluateMeasured, type EvaluateMeasuredOptions, type MeasuredInput } from './evaluate-measured.js';
import { evaluateTestSplit, type EvaluateOptions } from './evaluate.js';
import type { SldPredictor } from './predict.js';
import type { EvaluationResult } from './result.js';

/** What {@link evaluate} evaluates: a dataset's test split, or a measured curve. */
export type EvaluationInput =
  | {
      /** Evaluate on the test split of a synthetic dataset (`evaluateTestSplit`). */
      kind: 'test-split';
      /** The whole dataset's reflectivity curves, `(N, 2, Q)`: Q (Å⁻¹) and R. */
      nr: NrArray;
      /** The whole dataset's SLD profiles, `(N, 2, P)`: z (Å) and SLD (10⁻⁶ Å⁻²). */
      sld: SldArray;
      /** Row indices of the test split (from `splitIndices(...).test`). */
      testRows: ArrayLike<number>;
      /** Backend, model id, history, physics, example row. */
      options: EvaluateOptions;
    }
  | {
      /** Evaluate on one measured curve (`evaluateMeasured`). */
      kind: 'measured';
      /** The measured curve: Q (Å⁻¹), R, optional dR and dQ. */
      curve: MeasuredInput;
      /** Backend, model id, history, physics, Q grid. */
      options: EvaluateMeasuredOptions;
    };

/**
 * The one entry point of evaluation, returning the {@link EvaluationResult} pyreflect's interface returned,
 * corrected: `evaluateTestSplit` for synthetic data with ground truth, `evaluateMeasured` for a measured curve.
 *
 * @example
 * ```ts
 * const result = evaluate(model, { kind: 'test-split', nr, sld, testRows: split.test, options: { backend: 'wasm' } });
 * ```
 */
export function evaluate(model: SldPredictor, input: EvaluationInput): EvaluationResult {
  return input.kind === 'measured'
    ? evaluateMeasured(model, input.curve, input.options)
    : evaluateTestSplit(model, { nr: input.nr, sld: input.sld }, input.testRows, input.options);
}
