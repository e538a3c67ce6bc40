import { tf, tfl } from './tf.js';

/**
 * The seeds of every dropout mask in a training run: the mask of dropout layer `index` at training step
 * `step` is drawn from `seedFor(index)`, so a run resumed from a checkpoint (which stores `step`) draws
 * the same masks as one that never stopped. The trainer advances `step` once per batch.
 */
export class DropoutSchedule {
  constructor(
    /** Run seed. */
    public seed: number,
    /** Training step (batch counter over the whole run). */
    public step = 0,
  ) {}

  /** The mask seed of layer `index` at the current step (a 32-bit mix of seed, step and index). */
  seedFor(index: number): number {
    let h = (this.seed ^ Math.imul(this.step + 1, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
    return (h ^ (h >>> 16)) >>> 0;
  }
}

/** Arguments of {@link SeededDropout}. */
export interface SeededDropoutArgs {
  /** Probability of dropping, in [0, 1). */
  rate: number;
  /** Drop whole channels (pyreflect's SpatialDropout1D) instead of single elements. */
  spatial: boolean;
  /** Where the mask seeds come from. */
  schedule: DropoutSchedule;
  /** This layer's index among the model's dropout layers. */
  index: number;
  /** Layer name. */
  name?: string;
}

/**
 * Inverted dropout with reproducible masks: in training, keeps each element (or, `spatial`, each channel
 * of each sample, for `(batch, length, channels)` input) with probability 1 − rate and scales it by
 * 1/(1 − rate); at inference it is the identity. Same semantics as PyTorch's `Dropout` and pyreflect's
 * `SpatialDropout1D`.
 */
export class SeededDropout extends tfl.layers.Layer {
  /** The name tfjs serialises and registers the layer under. */
  static className = 'ReflectkitSeededDropout';
  /** Probability of dropping, in [0, 1). */
  readonly rate: number;
  /** Whether whole channels are dropped (SpatialDropout1D) rather than single elements. */
  readonly spatial: boolean;
  private readonly schedule: DropoutSchedule;
  private readonly index: number;

  constructor(args: SeededDropoutArgs) {
    super(args.name === undefined ? {} : { name: args.name });
    this.rate = args.rate;
    this.spatial = args.spatial;
    this.schedule = args.schedule;
    this.index = args.index;
    this.supportsMasking = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    if (!kwargs.training || this.rate === 0) return x;
    return tf.tidy(() => {
      const shape = this.spatial ? [x.shape[0]!, 1, x.shape[2]!] : x.shape;
      const uniform = tf.randomUniform(shape, 0, 1, 'float32', this.schedule.seedFor(this.index));
      const keep = tf.div(tf.cast(tf.greaterEqual(uniform, this.rate), 'float32'), 1 - this.rate);
      return tf.mul(x, keep);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, spatial: this.spatial, index: this.index };
  }
}
