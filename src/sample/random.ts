import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator';

/**
 * A seeded pseudo-random stream (pure-rand's xoroshiro128+). The same seed gives the same numbers on
 * every platform; {@link SeededRandom.split} gives independent streams (2⁶⁴ draws apart).
 */
export class SeededRandom {
  private constructor(private readonly generator: JumpableRandomGenerator) {}

  /** A stream from a 32-bit unsigned integer seed. */
  static fromSeed(seed: number): SeededRandom {
    return new SeededRandom(xoroshiro128plus(seed >>> 0));
  }

  /** A stream that continues from a saved {@link SeededRandom.state}. */
  static fromState(state: readonly number[]): SeededRandom {
    return new SeededRandom(xoroshiro128plusFromState(state));
  }

  /** The generator's state, to save and resume a stream. */
  state(): number[] {
    return [...this.generator.getState()];
  }

  /** `count` independent streams, each one jump (2⁶⁴ draws) beyond the previous; this stream is unchanged. */
  split(count: number): SeededRandom[] {
    const streams: SeededRandom[] = [];
    const cursor = this.generator.clone() as JumpableRandomGenerator;
    for (let k = 0; k < count; k++) {
      cursor.jump();
      streams.push(new SeededRandom(cursor.clone() as JumpableRandomGenerator));
    }
    return streams;
  }

  /** A float in [0, 1) with 53 random bits. */
  uniform(): number {
    return uniformFloat64(this.generator);
  }

  /** An integer in [lo, hi], both included. */
  integer(lo: number, hi: number): number {
    return uniformInt(this.generator, lo, hi);
  }

  /** A uniformly random permutation of 0 … n−1 (Fisher–Yates). */
  permutation(n: number): Uint32Array {
    const out = new Uint32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = uniformInt(this.generator, 0, i);
      const t = out[i]!;
      out[i] = out[j]!;
      out[j] = t;
    }
    return out;
  }
}
