import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { expect } from 'vitest';
import { ReflectkitError, type ReflectkitErrorCode } from '../../src/errors.js';

/**
 * Shared pieces of the parser fuzz tests (test/reliability/fuzz-*.test.ts): outcomes that must be a result
 * or a ReflectkitError of an expected code, corruptions of real files, and case counting.
 */

/** One seed for every property, so that a CI failure reproduces here (fast-check prints the path to shrink from). */
export const SEED = 0x5eed_2024;

/** What a parser call gave: a value, or a ReflectkitError of one of the expected codes. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ReflectkitError };

function refusal(error: unknown, codes: readonly ReflectkitErrorCode[]): { ok: false; error: ReflectkitError } {
  if (!(error instanceof ReflectkitError)) {
    throw new Error(`escaped as ${(error as Error)?.constructor?.name ?? typeof error}, not a ReflectkitError: ${String((error as Error)?.message ?? error)}`, { cause: error });
  }
  if (!codes.includes(error.code)) throw new Error(`ReflectkitError ${error.code} is not one of ${codes.join(', ')}: ${error.message}`, { cause: error });
  // A clear report: the code leads the message, and there is more than the code.
  expect(error.message.startsWith(error.code)).toBe(true);
  expect(error.message.length).toBeGreaterThan(error.code.length + 4);
  return { ok: false, error };
}

/** Runs `fn`; any exception other than a ReflectkitError with a code in `codes` fails the case. */
export function outcome<T>(fn: () => T, codes: readonly ReflectkitErrorCode[]): Outcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return refusal(error, codes);
  }
}

/**
 * Awaits `fn()` under a per-case limit (a hang fails the case instead of the whole file); any rejection other
 * than a ReflectkitError with a code in `codes` fails the case.
 */
export async function outcomeAsync<T>(fn: () => Promise<T>, codes: readonly ReflectkitErrorCode[], limitMs = 30_000): Promise<Outcome<T>> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${limitMs} ms: a hang`)), limitMs);
  });
  try {
    return { ok: true, value: await Promise.race([fn(), hang]) };
  } catch (error) {
    return refusal(error, codes);
  } finally {
    clearTimeout(timer);
  }
}

/** A corruption of a file's bytes. */
export type Corruption =
  | { kind: 'truncate'; length: number }
  | { kind: 'flip'; bits: number[] }
  | { kind: 'overwrite'; at: number; bytes: number[] }
  | { kind: 'extend'; bytes: number[] };

/** Truncations, bit flips (1 to 8 bits), overwrites with extreme bytes, trailing garbage, for a file of `size` bytes. */
export function corruptionArb(size: number): fc.Arbitrary<Corruption> {
  const extreme = fc.constantFrom(0x00, 0xff, 0x7f, 0x80, 0x2e, 0x0a, 0x20);
  return fc.oneof(
    fc.record({ kind: fc.constant('truncate' as const), length: fc.nat(Math.max(0, size - 1)) }),
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('flip' as const), bits: fc.array(fc.nat(size * 8 - 1), { minLength: 1, maxLength: 8 }) }) },
    fc.record({ kind: fc.constant('overwrite' as const), at: fc.nat(size - 1), bytes: fc.array(fc.oneof(extreme, fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }) }),
    fc.record({ kind: fc.constant('extend' as const), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 16 }) }),
  );
}

/** A corrupted copy of `bytes` (the input is not changed; a Buffer's `slice` would share its memory, so copies are made with Uint8Array's). */
export function corrupt(bytes: Uint8Array, c: Corruption): Uint8Array {
  switch (c.kind) {
    case 'truncate':
      return Uint8Array.prototype.slice.call(bytes, 0, c.length);
    case 'flip': {
      const out = Uint8Array.prototype.slice.call(bytes);
      for (const bit of c.bits) out[bit >> 3]! ^= 1 << (bit & 7);
      return out;
    }
    case 'overwrite': {
      const out = Uint8Array.prototype.slice.call(bytes);
      c.bytes.forEach((b, i) => {
        if (c.at + i < out.length) out[c.at + i] = b;
      });
      return out;
    }
    case 'extend': {
      const out = new Uint8Array(bytes.length + c.bytes.length);
      out.set(bytes);
      out.set(c.bytes, bytes.length);
      return out;
    }
  }
}

/** Whether a corruption leaves the bytes the same (a flip of one bit twice, an overwrite with the same bytes). */
export function unchanged(bytes: Uint8Array, corrupted: Uint8Array): boolean {
  return bytes.length === corrupted.length && Buffer.compare(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), Buffer.from(corrupted.buffer, corrupted.byteOffset, corrupted.byteLength)) === 0;
}

/**
 * Runs a property with the fixed seed and counts the cases it actually executed; the count must equal
 * `numRuns` (no case skipped) and is printed for the reliability record.
 */
export function runCounted<T>(label: string, arb: fc.Arbitrary<T>, numRuns: number, check: (value: T) => void): number {
  let count = 0;
  fc.assert(
    fc.property(arb, (value) => {
      count++;
      check(value);
    }),
    { seed: SEED, numRuns },
  );
  expect(count).toBe(numRuns);
  console.log(`[fuzz] ${label}: ${count} cases`);
  return count;
}

/** {@link runCounted} for an async check. */
export async function runCountedAsync<T>(label: string, arb: fc.Arbitrary<T>, numRuns: number, check: (value: T) => Promise<void>): Promise<number> {
  let count = 0;
  await fc.assert(
    fc.asyncProperty(arb, async (value) => {
      count++;
      await check(value);
    }),
    { seed: SEED, numRuns },
  );
  expect(count).toBe(numRuns);
  console.log(`[fuzz] ${label}: ${count} cases`);
  return count;
}

/** Tracks the largest growth of `process.memoryUsage().arrayBuffers` over a set of calls. */
export class BufferGrowth {
  /** Largest growth seen, bytes. */
  max = 0;

  /** Runs `fn` and records how far `arrayBuffers` grew across it. */
  measure<T>(fn: () => T): T {
    const before = process.memoryUsage().arrayBuffers;
    try {
      return fn();
    } finally {
      this.max = Math.max(this.max, process.memoryUsage().arrayBuffers - before);
    }
  }

  /** {@link BufferGrowth.measure} for an async call. */
  async measureAsync<T>(fn: () => Promise<T>): Promise<T> {
    const before = process.memoryUsage().arrayBuffers;
    try {
      return await fn();
    } finally {
      this.max = Math.max(this.max, process.memoryUsage().arrayBuffers - before);
    }
  }
}

/** A fresh scratch folder under the system temp folder. */
export function scratch(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `reflectkit-fuzz-${prefix}-`));
}

/** The float bytes of `data` (compares NaN payloads and −0 exactly). */
export function bytesOf(data: Float32Array | Float64Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
