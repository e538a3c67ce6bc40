import { ReflectkitError } from '../errors.js';
import { tf } from './tf.js';

/** Adam's hyper-parameters, PyTorch's names and defaults. */
export interface AdamOptions {
  /** Learning rate (default 0.001). */
  learningRate?: number;
  /** Weight decay λ (default 0): added to the gradient (PyTorch's `Adam`), or applied to the weights when `decoupled` (`AdamW`). */
  weightDecay?: number;
  /** Decoupled weight decay, `torch.optim.AdamW`: θ ← θ·(1 − lr·λ) before the Adam step, the gradient untouched (default false). */
  decoupled?: boolean;
  /** β₁ (default 0.9). */
  beta1?: number;
  /** β₂ (default 0.999). */
  beta2?: number;
  /** ε (default 1e-8). */
  epsilon?: number;
}

/** The optimizer's state: the step count and the first and second moments of each variable. */
export interface AdamState {
  /** Updates taken so far (t in the bias corrections). */
  step: number;
  /** First moment of each variable, in the variables' order; each the variable's size, flattened. */
  m: Float32Array[];
  /** Second moment of each variable, in the variables' order; each the variable's size, flattened. */
  v: Float32Array[];
}

/**
 * `torch.optim.Adam` step for step: g ← g + λ·θ (coupled weight decay; with `decoupled`, `torch.optim.AdamW`'s
 * θ ← θ·(1 − lr·λ) instead); m ← β₁m + (1 − β₁)g;
 * v ← β₂v + (1 − β₂)g²; θ ← θ − (lr/(1 − β₁ᵗ))·m/(√v/√(1 − β₂ᵗ) + ε). tfjs's own Adam puts ε inside the
 * bias correction, which differs early in training; this one matches PyTorch. Each variable is updated
 * in nested scopes, so temporaries never exceed about five copies of the largest variable.
 */
export class TorchAdam {
  /** Learning rate (default 0.001). */
  readonly learningRate: number;
  /** Weight decay λ (default 0), coupled or (AdamW) decoupled. */
  readonly weightDecay: number;
  /** Whether the weight decay is decoupled (AdamW). */
  readonly decoupled: boolean;
  /** β₁, decay of the first moment (default 0.9). */
  readonly beta1: number;
  /** β₂, decay of the second moment (default 0.999). */
  readonly beta2: number;
  /** ε added to the denominator (default 1e-8). */
  readonly epsilon: number;
  private stepCount = 0;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];

  constructor(
    private readonly variables: readonly tf.Variable[],
    options: AdamOptions = {},
  ) {
    this.learningRate = options.learningRate ?? 1e-3;
    this.weightDecay = options.weightDecay ?? 0;
    this.decoupled = options.decoupled ?? false;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.m = variables.map((p) => tf.variable(tf.zerosLike(p), false));
    this.v = variables.map((p) => tf.variable(tf.zerosLike(p), false));
  }

  /** Steps taken. */
  get step(): number {
    return this.stepCount;
  }

  /** Applies one update with `gradients` (aligned with the variables; disposed here). */
  apply(gradients: readonly tf.Tensor[]): void {
    this.stepCount += 1;
    const t = this.stepCount;
    const stepSize = this.learningRate / (1 - this.beta1 ** t);
    const correction2 = Math.sqrt(1 - this.beta2 ** t);
    this.variables.forEach((p, i) => {
      // Nested scopes keep at most a few variable-sized temporaries alive at once (the dense head's
      // kernel is 568 MB in pyreflect's model).
      const raw = gradients[i]!;
      if (this.decoupled && this.weightDecay !== 0) tf.tidy(() => p.assign(tf.mul(p, 1 - this.learningRate * this.weightDecay)));
      const g = this.weightDecay === 0 || this.decoupled ? raw : tf.tidy(() => tf.add(raw, tf.mul(p, this.weightDecay)));
      // assign() inside each scope: the variable keeps the new data, the scope frees the tensor object.
      tf.tidy(() => this.m[i]!.assign(tf.add(tf.mul(this.m[i]!, this.beta1), tf.mul(g, 1 - this.beta1))));
      tf.tidy(() => this.v[i]!.assign(tf.add(tf.mul(this.v[i]!, this.beta2), tf.mul(tf.square(g), 1 - this.beta2))));
      if (g !== raw) g.dispose();
      raw.dispose();
      tf.tidy(() => {
        const denominator = tf.add(tf.div(tf.sqrt(this.v[i]!), correction2), this.epsilon);
        p.assign(tf.sub(p, tf.mul(tf.div(this.m[i]!, denominator), stepSize)));
      });
    });
  }

  /** A copy of the state (for checkpoints). */
  async getState(): Promise<AdamState> {
    return {
      step: this.stepCount,
      m: await Promise.all(this.m.map(async (t) => (await t.data()) as Float32Array)),
      v: await Promise.all(this.v.map(async (t) => (await t.data()) as Float32Array)),
    };
  }

  /** Restores a state saved by {@link TorchAdam.getState}. @throws ReflectkitError `CHECKPOINT_INVALID` on a mismatch. */
  setState(state: AdamState): void {
    if (state.m.length !== this.m.length || state.v.length !== this.v.length) {
      throw new ReflectkitError('CHECKPOINT_INVALID', `optimizer state has ${state.m.length} variables, the model ${this.m.length}`, {
        path: 'optimizer',
        expected: `${this.m.length} moment arrays`,
      });
    }
    this.m.forEach((t, i) => {
      if (state.m[i]!.length !== t.size || state.v[i]!.length !== t.size) {
        throw new ReflectkitError('CHECKPOINT_INVALID', `optimizer variable ${i} has ${state.m[i]!.length} values, the model ${t.size}`, {
          path: `optimizer[${i}]`,
          expected: `${t.size} values`,
        });
      }
      tf.tidy(() => {
        t.assign(tf.tensor(state.m[i]!, t.shape));
        this.v[i]!.assign(tf.tensor(state.v[i]!, t.shape));
      });
    });
    this.stepCount = state.step;
  }

  /** Frees the moment tensors. */
  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}
