import { ReflectkitError } from '../errors.js';
import type { AdamState } from './adam.js';
import { tf } from './tf.js';

/** SGD's hyper-parameters, PyTorch's names and defaults (no dampening, no Nesterov). */
export interface SgdOptions {
  /** Learning rate (default 0.001). */
  learningRate?: number;
  /** Coupled L2 weight decay λ, added to the gradient (default 0). */
  weightDecay?: number;
  /** Momentum μ in [0, 1) (default 0: plain gradient descent). */
  momentum?: number;
}

/**
 * `torch.optim.SGD` step for step: g ← g + λ·θ; b ← μ·b + g (b starts at 0, so the first step's b is g, as
 * PyTorch's); θ ← θ − lr·b. Its state has one buffer per variable (`m`; `v` stays empty).
 */
export class TorchSgd {
  /** Learning rate (default 0.001). */
  readonly learningRate: number;
  /** Coupled L2 weight decay λ (default 0). */
  readonly weightDecay: number;
  /** Momentum μ (default 0). */
  readonly momentum: number;
  private stepCount = 0;
  private readonly buffers: tf.Variable[];

  constructor(
    private readonly variables: readonly tf.Variable[],
    options: SgdOptions = {},
  ) {
    this.learningRate = options.learningRate ?? 1e-3;
    this.weightDecay = options.weightDecay ?? 0;
    this.momentum = options.momentum ?? 0;
    this.buffers = variables.map((p) => tf.variable(tf.zerosLike(p), false));
  }

  /** Steps taken. */
  get step(): number {
    return this.stepCount;
  }

  /** Applies one update with `gradients` (aligned with the variables; disposed here). */
  apply(gradients: readonly tf.Tensor[]): void {
    this.stepCount += 1;
    this.variables.forEach((p, i) => {
      const raw = gradients[i]!;
      tf.tidy(() => {
        const g = this.weightDecay === 0 ? raw : tf.add(raw, tf.mul(p, this.weightDecay));
        this.buffers[i]!.assign(this.momentum === 0 ? g : tf.add(tf.mul(this.buffers[i]!, this.momentum), g));
      });
      raw.dispose();
      tf.tidy(() => p.assign(tf.sub(p, tf.mul(this.buffers[i]!, this.learningRate))));
    });
  }

  /** A copy of the state (for checkpoints): the step and the momentum buffers in `m`. */
  async getState(): Promise<AdamState> {
    return { step: this.stepCount, m: await Promise.all(this.buffers.map(async (t) => (await t.data()) as Float32Array)), v: [] };
  }

  /** Restores a state saved by {@link TorchSgd.getState}. @throws ReflectkitError `CHECKPOINT_INVALID` on a mismatch. */
  setState(state: AdamState): void {
    if (state.m.length !== this.buffers.length || state.v.length !== 0) {
      throw new ReflectkitError('CHECKPOINT_INVALID', `optimizer state has ${state.m.length} + ${state.v.length} arrays, SGD needs ${this.buffers.length}`, {
        path: 'optimizer',
        expected: `${this.buffers.length} momentum buffers`,
      });
    }
    this.buffers.forEach((t, i) => {
      if (state.m[i]!.length !== t.size) {
        throw new ReflectkitError('CHECKPOINT_INVALID', `optimizer variable ${i} has ${state.m[i]!.length} values, the model ${t.size}`, {
          path: `optimizer[${i}]`,
          expected: `${t.size} values`,
        });
      }
      tf.tidy(() => t.assign(tf.tensor(state.m[i]!, t.shape)));
    });
    this.stepCount = state.step;
  }

  /** Frees the buffers. */
  dispose(): void {
    for (const t of this.buffers) t.dispose();
  }
}
