import { readFile } from 'node:fs/promises';
import { ReflectkitError, isReflectkitError } from '../errors.js';

/** Exit codes of the `reflectkit` command. */
export const EXIT = {
  /** Success. */
  ok: 0,
  /** The operation failed (I/O, worker, numeric). */
  failed: 1,
  /** Bad usage or invalid input (a config, a model, an option). */
  invalidInput: 2,
  /** Interrupted (Ctrl-C). */
  interrupted: 130,
} as const;

/** Reads and parses a JSON file, with `IO_ERROR` / `INVALID_CONFIG` errors naming the file. */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ReflectkitError('IO_ERROR', `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { path, cause: error });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    // V8's message may quote the text around the error, which can be a password in a connection string:
    // only the position is reported, and the original error is not kept as the cause.
    throw new ReflectkitError('INVALID_CONFIG', `${path} is not valid JSON${jsonErrorPosition(error, text)}`, { path, expected: 'a JSON document' });
  }
}

/** ` (line L, column C)` from a JSON.parse error that gives a position, else `''`. */
function jsonErrorPosition(error: unknown, text: string): string {
  const match = /at position (\d+)/.exec((error as Error)?.message ?? '');
  if (match === null) return '';
  const before = text.slice(0, Number(match[1]));
  const line = before.split('\n').length;
  return ` (line ${line}, column ${before.length - before.lastIndexOf('\n')})`;
}

/** The exit code for an error: invalid input, interruption, or failure. */
export function exitCodeOf(error: unknown): number {
  if (isReflectkitError(error)) {
    if (error.code === 'ABORTED') return EXIT.interrupted;
    if (error.code.startsWith('INVALID_') || error.code === 'NOT_FOUND' || error.code === 'BAD_SHAPE' || error.code === 'NPY_FORMAT' || error.code === 'MEASURED_FORMAT' || error.code === 'CHECKPOINT_INVALID') return EXIT.invalidInput;
  }
  return EXIT.failed;
}

/** Writes an error to stderr: one line for a ReflectkitError, or JSON with `--json`. */
export function reportError(error: unknown, json: boolean): void {
  if (json) {
    const body = isReflectkitError(error)
      ? error.toJSON()
      : { name: (error as Error)?.name ?? 'Error', message: (error as Error)?.message ?? String(error) };
    process.stderr.write(`${JSON.stringify({ error: body })}\n`);
    return;
  }
  const message = isReflectkitError(error) ? error.message : `unexpected error: ${(error as Error)?.stack ?? String(error)}`;
  process.stderr.write(`reflectkit: ${message}\n`);
}
