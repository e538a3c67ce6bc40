import { ReflectkitError } from '../errors.js';
import { MODEL_ID_PATTERN } from './history.js';

/** A Hub repository id `owner/name`: each part letters, digits, `.`, `_`, `-`, starting with a letter or digit, at most 96 characters, no `..`. */
export const HUB_REPO_ID = /^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]{0,95}\/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;

/** A model id as a Hub folder name (`models/{modelId}/`): letters, digits, `.`, `_`, `-`, starting with a letter or digit, at most 128 characters, no `..`. */
export const HUB_MODEL_ID = MODEL_ID_PATTERN;

/** Shows at most 64 characters of a rejected value. */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 64));
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : typeof value;
}

/** Checks a repository id `owner/name`; `INVALID_ID` at `path` otherwise. */
export function checkRepoId(value: unknown, path = 'repo'): string {
  if (typeof value !== 'string' || !HUB_REPO_ID.test(value)) {
    throw new ReflectkitError('INVALID_ID', `repository ${shown(value)}`, { path, expected: '"owner/name": letters, digits, ".", "_" or "-", each part starting with a letter or digit, no ".."' });
  }
  return value;
}

/** Checks a model id (a Hub folder name); `INVALID_ID` at `path` otherwise. */
export function checkModelId(value: unknown, path = 'modelId'): string {
  if (typeof value !== 'string' || !HUB_MODEL_ID.test(value)) {
    throw new ReflectkitError('INVALID_ID', `model id ${shown(value)}`, { path, expected: 'letters, digits, ".", "_" or "-", starting with a letter or digit, at most 128 characters, no ".."' });
  }
  return value;
}

/** True for a plain file name: not empty, not `.`, at most 255 characters, no `/`, `\`, `..` or NUL (so it names a file inside its folder on every platform). */
export function isPlainFileName(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && value !== '.' && value.length <= 255 && !value.includes('/') && !value.includes('\\') && !value.includes('..') && !value.includes('\0');
}

/** Checks a plain file name ({@link isPlainFileName}); `INVALID_ID` at `path` otherwise. */
export function checkFileName(value: unknown, path: string): string {
  if (!isPlainFileName(value)) {
    throw new ReflectkitError('INVALID_ID', `file name ${shown(value)}`, { path, expected: 'a plain file name: no "/", "\\" or "..", at most 255 characters' });
  }
  return value;
}

/** Checks an integer option in `[min, max]`; `INVALID_OPTION` at `path` otherwise. */
export function checkInteger(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ReflectkitError('INVALID_OPTION', `${path} is ${shown(value)}`, { path, expected: `an integer from ${min} to ${max}`, received: value });
  }
  return value;
}
