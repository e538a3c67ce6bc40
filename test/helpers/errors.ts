import { expect } from 'vitest';
import { ReflectkitError } from '../../src/errors.js';

/** Runs `fn`, expects it to throw a ReflectkitError, and returns it. */
export function thrown(fn: () => unknown): ReflectkitError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ReflectkitError);
    return error as ReflectkitError;
  }
  throw new Error('expected a ReflectkitError');
}

/** Awaits `promise`, expects it to reject with a ReflectkitError, and returns it. */
export async function rejection(promise: Promise<unknown>): Promise<ReflectkitError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ReflectkitError);
    return error as ReflectkitError;
  }
  throw new Error('expected a rejection');
}
