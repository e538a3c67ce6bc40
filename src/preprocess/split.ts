import { ReflectkitError } from '../errors.js';
import { SeededRandom } from '../sample/random.js';

/** Row indices of a train / validation / test split (the same rows for NR and SLD). */
export interface SplitIndices {
  /** Rows to train on (⌊f·N⌋ of them), in random order. */
  train: Uint32Array;
  /** Rows for the per-epoch validation loss. */
  validation: Uint32Array;
  /** Rows held out for the final evaluation. */
  test: Uint32Array;
}

/** Sizes pyreflect's split gives: train = ⌊f·N⌋, test = ⌈(N − train)/2⌉, validation = the rest. */
export function splitSizes(
  total: number,
  trainFraction = 0.8,
): {
  /** Curves in the training part, ⌊f·N⌋. */
  train: number;
  /** Curves in the validation part, the rest. */
  validation: number;
  /** Curves in the test part, ⌈(N − train)/2⌉. */
  test: number;
} {
  const train = Math.floor(trainFraction * total);
  const hold = total - train;
  const test = Math.ceil(hold / 2);
  return { train, validation: hold - test, test };
}

/**
 * A seeded random split. N = 1000 gives 800/100/100, 1001 gives 800/100/101, 10 gives 8/1/1, as pyreflect
 * (sklearn) does; unlike pyreflect it is reproducible from `seed`.
 *
 * @param total N, the number of curves.
 * @param options.seed seed of the permutation.
 * @param options.trainFraction fraction f of the curves to train on, in (0, 1) (default 0.8).
 * @throws ReflectkitError `INVALID_OPTION` when a part would be empty (fewer than 6 curves at 0.8) or the
 *   fraction is not in (0, 1).
 */
export function splitIndices(total: number, options: { seed: number; trainFraction?: number }): SplitIndices {
  const fraction = options.trainFraction ?? 0.8;
  if (!(fraction > 0 && fraction < 1)) {
    throw new ReflectkitError('INVALID_OPTION', `train fraction ${fraction}`, { path: 'trainFraction', expected: 'a number between 0 and 1' });
  }
  const sizes = splitSizes(total, fraction);
  if (!Number.isSafeInteger(total) || sizes.train < 1 || sizes.validation < 1 || sizes.test < 1) {
    throw new ReflectkitError('INVALID_OPTION', `${total} curves cannot be split ${Math.round(fraction * 100)}/rest into three non-empty parts`, {
      path: 'numCurves',
      expected: `enough curves for train, validation and test (at least 6 at 80/10/10; got ${total})`,
      received: total,
    });
  }
  const order = SeededRandom.fromSeed(options.seed).permutation(total);
  return {
    train: order.slice(0, sizes.train),
    validation: order.slice(sizes.train, sizes.train + sizes.validation),
    test: order.slice(sizes.train + sizes.validation),
  };
}
