import type { NrArray, SldArray } from '../data/dataset.js';
import { evaluateMeasured, type EvaluateMeasuredOptions, type MeasuredInput } from './evaluate-measured.js';
import { evaluateTestSplit, type EvaluateOptions } from './evaluate.js';
import type { SldPredictor } from './predict.js';
import type { EvaluationResult } from './result.js';

/** What {@link evaluate} evaluates: a dataset's test split, or a measured curve. */
export type EvaluationInput =
  | { kind: 'test-split'; nr: NrArray; sld: SldArray; testRows: ArrayLike<number>; options: EvaluateOptions }
  | { kind: 'measured'; curve: MeasuredInput; options: EvaluateMeasuredOptions };

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
