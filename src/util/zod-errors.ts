import type { z } from 'zod';
import { ReflectkitError, type ReflectkitErrorCode } from '../errors.js';

/** `['layers', 3, 'thickness']` → `layers[3].thickness`, prefixed by `root` when given. */
export function formatPath(path: readonly PropertyKey[], root = ''): string {
  let out = root;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** The "expected …" phrase for a zod issue, in words. */
function expectedOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `a value of type ${issue.expected}`;
    case 'too_small':
      return issue.origin === 'array'
        ? `at least ${String(issue.minimum)} items`
        : `${issue.inclusive ? '≥' : '>'} ${String(issue.minimum)}`;
    case 'too_big':
      return issue.origin === 'array'
        ? `at most ${String(issue.maximum)} items`
        : `${issue.inclusive ? '≤' : '<'} ${String(issue.maximum)}`;
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `no key ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    default:
      return issue.message;
  }
}

/**
 * Parses `value` with `schema`, or throws a {@link ReflectkitError} with `code`, the JSON path of the
 * first offending field (under `root`) and what was expected there.
 */
export function parseOrThrow<T extends z.ZodType>(
  schema: T,
  value: unknown,
  code: ReflectkitErrorCode,
  root = '',
): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = formatPath(issue.path, root);
  throw new ReflectkitError(code, issue.message, { path, expected: expectedOf(issue), received: undefined });
}
